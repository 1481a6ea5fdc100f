$(eval $(call runner,model-deployer,$(DEPS_LIBS_pq) $(DEPS_LIBS_tds) $(DEPS_LIBS_yaml) $(DEPS_LIBS_cjson)))
