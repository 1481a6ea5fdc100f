# Airflow in containers (compose.yaml + docker-compose.override.yml), included by the Makefile:
#
#   make compose-up AIRFLOW_IMAGE=<image>   build this datakit's layer on your organisation's Airflow
#                                           image, start the services, wait for them, say where to go
#   make compose-down                       stop and remove the containers (WIPE=1: the metadata too)
#   make compose-logs [SERVICE=...]         follow the services' logs
#
# Works with docker-compose 1.29 (COMPOSE="docker compose" for v2) and the legacy builder.
AIRFLOW_IMAGE ?=
AIRFLOW_PORT  ?= 8080
# the containers run as you (group 0), so they read your 0600 connections file
AIRFLOW_UID   ?= $(shell id -u)
DATAKIT_IMAGE ?= tinyrun-datakit/{{ cookiecutter.datakit_slug }}:local
CONNECTIONS   ?= connections.yaml
COMPOSE       ?= docker-compose
# one project name, whichever folder or shell runs it: compose-down finds what compose-up started
COMPOSE_PROJECT_NAME ?= {{ cookiecutter.datakit_slug }}
COMPOSE_WAIT_S ?= 300

# docker-compose.override.yml resolves sql/ and data/ from $PWD, and reaches the engine of DOCKER_HOST
export PWD := $(CURDIR)
export AIRFLOW_PORT AIRFLOW_UID DATAKIT_IMAGE COMPOSE_PROJECT_NAME
export TINYRUN_CONNECTIONS_FILE := $(abspath $(CONNECTIONS))
ifneq ($(filter unix://%,$(DOCKER_HOST)),)
export TINYRUN_DOCKER_SOCKET ?= $(patsubst unix://%,%,$(DOCKER_HOST))
else ifneq ($(DOCKER_HOST),)
export TINYRUN_DOCKER_URL ?= $(DOCKER_HOST)
endif

compose_fail = { echo "make $@: $(1)" >&2; exit 2; }

# the runner images runners.lock pins must be on the engine, with exactly those IDs
define compose_check_images
import json, subprocess, sys
wrong = []
for name, entry in sorted(json.load(open("runners.lock"))["images"].items()):
    found = subprocess.run(["docker", "image", "inspect", "-f", "{{ "{{" }}.Id{{ "}}" }}", entry["image"]],
                           capture_output=True, text=True, check=False).stdout.strip()
    if found != entry["id"]:
        wrong.append(f"{entry['image']} is {found or 'not there'}, runners.lock pins {entry['id']}")
if wrong:
    sys.exit("make compose-up: the Docker engine does not have the runner images runners.lock pins ("
             + "; ".join(wrong) + "): load them (`make images` in tinyrun) or regenerate this datakit from "
             "the build whose images the engine has; nothing was started")
endef
export compose_check_images

.PHONY: compose-up compose-down compose-logs compose-build compose-check
# what every start needs, checked before anything is built or started
compose-check:
	@[ -n "$(AIRFLOW_IMAGE)" ] || $(call compose_fail,set AIRFLOW_IMAGE to your organisation's Airflow image \
	  (make compose-up AIRFLOW_IMAGE=registry.example/airflow:3.3.2); nothing was started)
	@docker version >/dev/null 2>&1 || $(call compose_fail,the Docker engine ($${DOCKER_HOST:-/var/run/docker.sock}) \
	  does not answer: start Docker or fix DOCKER_HOST and try again; nothing was started)

compose-build: compose-check
	@began=$$(date +%s%N); \
	docker build -q -t $(DATAKIT_IMAGE) --build-arg AIRFLOW_IMAGE=$(AIRFLOW_IMAGE) . >/dev/null || exit 1; \
	ms=$$(( ($$(date +%s%N) - began) / 1000000 )); \
	printf 'built %s on %s in %d.%01d s\n' $(DATAKIT_IMAGE) $(AIRFLOW_IMAGE) $$((ms / 1000)) $$((ms % 1000 / 100))

compose-up: compose-check
	@[ -f "$(CONNECTIONS)" ] || $(call compose_fail,no $(CONNECTIONS): copy connections.example.yaml \
	  (install -m 600 connections.example.yaml $(CONNECTIONS)) and point it at your databases; nothing was started)
	@python3 -c "$$compose_check_images" || exit 2
	@$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) compose-build
	@mkdir -p data
	@$(COMPOSE) up -d --remove-orphans || { $(COMPOSE) down --remove-orphans; echo "make $@: the services did not start (above); nothing is left running" >&2; exit 1; }
	@echo "waiting for the Airflow API on 127.0.0.1:$(AIRFLOW_PORT) ..."; \
	deadline=$$(( $$(date +%s) + $(COMPOSE_WAIT_S) )); \
	until [ "$$(docker inspect -f '{{ "{{" }}.State.Health.Status{{ "}}" }}' $$($(COMPOSE) ps -q airflow-apiserver) 2>/dev/null)" = healthy ]; do \
	  if [ $$(date +%s) -gt $$deadline ] || [ -z "$$($(COMPOSE) ps -q airflow-apiserver)" ]; then \
	    $(COMPOSE) ps; $(COMPOSE) logs --tail 30 airflow-init airflow-apiserver; $(COMPOSE) down --remove-orphans; \
	    echo "make $@: Airflow did not come up (logs above); nothing is left running" >&2; exit 1; fi; \
	  sleep 2; done
	@echo "Airflow is up: http://127.0.0.1:$(AIRFLOW_PORT)  (local admin, no login; REST API under /api/v2)"
	@echo "  services: $$($(COMPOSE) ps --services | tr '\n' ' ')"
	@echo "  logs: make compose-logs    stop: make compose-down (the metadata database is kept)"

compose-down:
	@$(COMPOSE) down --remove-orphans $(if $(WIPE),--volumes)
	@echo "stopped; $(if $(WIPE),the metadata database was deleted,the metadata database is kept (WIPE=1 deletes it))"

compose-logs:
	@$(COMPOSE) logs -f --tail 100 $(SERVICE)
