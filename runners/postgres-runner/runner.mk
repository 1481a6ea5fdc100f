$(eval $(call runner,postgres-runner,$(DEPS_LIBS_pq) $(DEPS_LIBS_cjson)))
