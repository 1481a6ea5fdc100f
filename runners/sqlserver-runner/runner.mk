$(eval $(call runner,sqlserver-runner,$(DEPS_LIBS_tds) $(DEPS_LIBS_cjson)))
