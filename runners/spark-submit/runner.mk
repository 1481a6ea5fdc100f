$(eval $(call runner,spark-submit,$(DEPS_LIBS_cjson),spark-submit-runner))
