$(eval $(call runner,dbt-runner,$(DEPS_LIBS_cjson)))
