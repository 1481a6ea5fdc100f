$(eval $(call runner,ticket-sharer,$(DEPS_LIBS_krb5) $(DEPS_LIBS_cjson)))
