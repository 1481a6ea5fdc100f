#!/bin/sh
# An MIT KDC for the mock realm, on port 88 (tcp and udp). On the first start (an empty
# /var/lib/krb5kdc volume) it creates the realm, the user MOCK_USER and the service principal
# postgres/MOCK_PG_HOST, and exports their keys to /keytabs: MOCK_USER.keytab (for the developer's
# kinit, mode 0600) and postgres.keytab (owned by the postgres user, for the mock PostgreSQL).
set -eu
realm=${MOCK_REALM:?set MOCK_REALM}
user=${MOCK_USER:?set MOCK_USER}
pg_host=${MOCK_PG_HOST:-localhost}
db=/var/lib/krb5kdc

cat > /etc/krb5.conf <<CONF
[libdefaults]
    default_realm = $realm
    dns_lookup_kdc = false
    rdns = false
[realms]
    $realm = {
        kdc = 127.0.0.1:88
    }
CONF
cat > /etc/krb5kdc/kdc.conf <<CONF
[kdcdefaults]
    kdc_ports = 88
    kdc_tcp_ports = 88
[realms]
    $realm = {
        database_name = $db/principal
        key_stash_file = $db/stash
        acl_file = /etc/krb5kdc/kadm5.acl
        max_life = 1d
        max_renewable_life = 7d
        master_key_type = aes256-cts-hmac-sha1-96
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }
[logging]
    kdc = STDERR
CONF
: > /etc/krb5kdc/kadm5.acl

if [ ! -e "$db/principal" ]; then
    echo "kdc: creating realm $realm with user $user@$realm"
    master=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
    kdb5_util create -s -r "$realm" -P "$master" >/dev/null
    kadmin.local -r "$realm" -q "addprinc -randkey +renewable $user@$realm" >/dev/null
    kadmin.local -r "$realm" -q "addprinc -randkey postgres/$pg_host@$realm" >/dev/null
    rm -f /keytabs/*.keytab.tmp
    (umask 077
     kadmin.local -r "$realm" -q "ktadd -norandkey -k /keytabs/$user.keytab.tmp $user@$realm" >/dev/null
     kadmin.local -r "$realm" -q "ktadd -norandkey -k /keytabs/postgres.keytab.tmp postgres/$pg_host@$realm" >/dev/null)
    chown postgres:postgres /keytabs/postgres.keytab.tmp
    mv /keytabs/postgres.keytab.tmp /keytabs/postgres.keytab
    mv "/keytabs/$user.keytab.tmp" "/keytabs/$user.keytab"
fi
echo "kdc: realm $realm ready"
exec krb5kdc -n -r "$realm"
