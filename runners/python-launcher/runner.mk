$(eval $(call runner,python-launcher,$(DEPS_LIBS_curl) $(DEPS_LIBS_cjson)))
