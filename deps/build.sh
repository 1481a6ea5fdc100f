#!/usr/bin/env bash
# deps/build.sh NAME SRC SYSROOT JOBS CC: build library NAME from its unpacked source tree SRC (made by
# deps/fetch.sh) with the musl compiler CC as a static library only (no programs, docs or tests) and install its
# headers and archives into SYSROOT/include and SYSROOT/lib. The libraries it needs must already be
# in SYSROOT (deps/deps.mk orders the builds).
#
# Nothing of the build machine may end up in the libraries, or the runners (and their image IDs)
# would depend on where the checkout lies: the libraries are configured for the neutral prefix
# /usr/local (the paths they compile in, e.g. krb5's plugin folder, point there, which the images
# leave empty) and staged with DESTDIR; the compiler is named musl-gcc, found on PATH.
set -euo pipefail
name=$1 src=$2 prefix=$3 jobs=$4 cc=$5
inst=/usr/local
# Command-line variables of the calling make must not leak into the libraries' own makefiles.
unset MAKEFLAGS MFLAGS MAKEOVERRIDES MAKELEVEL
PATH=$(dirname "$cc"):$PATH
export CC=${cc##*/} AR=ar RANLIB=ranlib
export CFLAGS="-Os -ffunction-sections -fdata-sections -fPIE -fstack-protector-strong"
export CPPFLAGS="-I$prefix/include" LDFLAGS="-static -L$prefix/lib"
export PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig PKG_CONFIG_PATH=
krb5_libs="-lgssapi_krb5 -lkrb5 -lk5crypto -lcom_err -lkrb5support"
# A library that stamps its build time (OpenSSL's "built on") gets the package's changelog date, as
# in Debian's own builds, not the clock or the commit that happened to build the cached sysroot.
SOURCE_DATE_EPOCH=0
if [ -f "$src/debian/changelog" ]; then SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$src/debian/changelog" -STimestamp); fi
export SOURCE_DATE_EPOCH
mkdir -p "$prefix/include" "$prefix/lib"
cd "$src"

# musl-gcc sees no kernel headers; give it only the kernel's (not the rest of glibc's /usr/include).
kernel_headers() {
  local dir=$src/.kernel-headers
  mkdir -p "$dir"
  ln -sfn /usr/include/linux "$dir/linux"
  ln -sfn /usr/include/asm-generic "$dir/asm-generic"
  ln -sfn "/usr/include/$(gcc -print-multiarch)/asm" "$dir/asm"
  echo "$dir"
}

# install_staged TARGET DIR...: run `make -C DIR TARGET DESTDIR=<stage>` in each DIR and keep only the
# headers and static archives installed (no programs, man pages, pkg-config or cmake files).
stage=$src/.stage
rm -rf "$stage"
install_staged() {
  local target=$1 d
  shift
  for d in "$@"; do make -C "$d" "$target" DESTDIR="$stage"; done
  cp -r "$stage$inst/include/." "$prefix/include/"
  cp "$stage$inst"/lib/*.a "$prefix/lib/"
}

# The C library and its gcc wrapper: SYSROOT/musl/bin/musl-gcc (with its specs in SYSROOT/musl/lib)
# is the CC of every other library and of the runners. Built with the host's gcc and musl's own
# flags (Debian's gcc makes position-independent objects, which -static-pie needs).
build_musl() {
  env -u CFLAGS -u CPPFLAGS -u LDFLAGS CC=gcc ./configure --prefix="$prefix/musl" --disable-shared \
    --enable-wrapper=gcc
  env -u CFLAGS -u CPPFLAGS -u LDFLAGS make -j"$jobs"
  env -u CFLAGS -u CPPFLAGS -u LDFLAGS make install
  # Prove the wrapper links a static program that runs.
  printf '#include <stdio.h>\nint main(void) { puts("musl ok"); return 0; }\n' > .probe.c
  "$prefix/musl/bin/musl-gcc" -static-pie -o .probe .probe.c
  [ "$(./.probe)" = "musl ok" ]
}

# The images' CA bundle, /etc/ssl/certs/ca-certificates.crt, from the pinned .deb's certificates in
# the order update-ca-certificates uses (sorted, each ending in a newline).
build_ca-certificates() {
  local bundle=$prefix/etc/ssl/certs/ca-certificates.crt n
  mkdir -p "$(dirname "$bundle")"
  find usr/share/ca-certificates/mozilla -name '*.crt' | LC_ALL=C sort | while read -r f; do
    sed -e '$a\' "$f"
  done > "$bundle"
  n=$(grep -c -- '-----BEGIN CERTIFICATE-----' "$bundle")
  [ "$n" -gt 100 ] || { echo "ca-certificates: only $n certificates in the bundle" >&2; exit 1; }
}

build_zlib() {
  ./configure --static --prefix="$inst"
  make -j"$jobs" libz.a
  cp libz.a "$prefix/lib/"
  cp zlib.h zconf.h "$prefix/include/"
}

build_mbedtls() {
  make -C library -j"$jobs" static
  cp -r include/mbedtls include/psa "$prefix/include/"
  cp library/libmbedtls.a library/libmbedx509.a library/libmbedcrypto.a "$prefix/lib/"
}

build_openssl() {
  # OpenSSL compiles its flags into the library (`openssl version -f`): no absolute path among them,
  # so the kernel headers are named relative to the source tree, where it compiles.
  kernel_headers >/dev/null
  env -u CPPFLAGS -u LDFLAGS ./Configure linux-x86_64 --prefix="$inst" --libdir=lib --openssldir=/etc/ssl \
    no-shared no-module no-engine no-tests no-docs no-apps \
    -isystem.kernel-headers $CFLAGS
  make -j"$jobs" build_libs
  install_staged install_dev .
}

build_cjson() {
  $CC $CFLAGS -c -o cJSON.o cJSON.c
  ar rcs libcjson.a cJSON.o
  mkdir -p "$prefix/include/cjson"
  cp cJSON.h "$prefix/include/cjson/"
  cp libcjson.a "$prefix/lib/"
}

build_krb5() {
  cd src
  ./configure --prefix="$inst" --enable-static --disable-shared --with-crypto-impl=builtin \
    --without-keyutils --disable-pkinit --with-tls-impl=no --without-lmdb --without-ldap \
    --without-libedit --without-readline --disable-nls --without-system-verto
  # Only the client libraries: no verto, kadm5, kdb5, krad or gssrpc.
  local d dirs="util/support util/et util/profile include lib/crypto lib/krb5 lib/gssapi"
  for d in $dirs; do make -C "$d" -j"$jobs"; done
  make install-mkdirs DESTDIR="$stage"
  install_staged install $dirs
}

build_curl() {
  ./configure --prefix="$inst" --disable-shared --enable-static \
    --with-mbedtls="$prefix" --with-zlib="$prefix" \
    --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --without-ca-path \
    --without-libpsl --disable-ldap --without-brotli --without-zstd --without-nghttp2 \
    --without-libidn2 --without-libssh2 --without-librtmp --disable-manual --disable-docs
  make -C lib -j"$jobs"
  install_staged install lib include
}

build_libpq() {
  ./configure --prefix="$inst" --with-gssapi --with-openssl --without-readline --without-icu \
    --without-zlib LIBS="$krb5_libs -lssl -lcrypto"
  make -C src/interfaces/libpq -j"$jobs" all-static-lib
  # Debian points the libpgcommon/libpgport installs elsewhere: take them from the build tree.
  cp src/interfaces/libpq/libpq.a src/common/libpgcommon_shlib.a src/port/libpgport_shlib.a "$prefix/lib/"
  cp src/interfaces/libpq/libpq-fe.h src/interfaces/libpq/libpq-events.h src/include/postgres_ext.h \
    "$prefix/include/"
  # pg_config_ext.h exists up to PostgreSQL 17 (a fallback may be newer).
  if [ -f src/include/pg_config_ext.h ]; then cp src/include/pg_config_ext.h "$prefix/include/"; fi
}

build_freetds() {
  # Its configuration file is the images' /etc/freetds.conf.
  ./configure --prefix="$inst" --sysconfdir=/etc --disable-shared --enable-static --disable-odbc --disable-apps \
    --disable-server --disable-pool --enable-krb5="$krb5_libs" --with-openssl="$prefix" \
    CPPFLAGS="$CPPFLAGS -isystem $(kernel_headers)"
  # Kerberos and TLS drop out silently when a configure check fails: insist on both.
  grep -q '^#define ENABLE_KRB5 1' include/config.h || { echo "freetds: ENABLE_KRB5 missing" >&2; exit 1; }
  grep -q '^#define HAVE_OPENSSL 1' include/config.h || { echo "freetds: HAVE_OPENSSL missing" >&2; exit 1; }
  local d
  for d in include src/utils src/replacements src/tds src/dblib; do make -C "$d" -j"$jobs"; done
  install_staged install include src/dblib
}

# libyaml, the reference C YAML parser (model-deployer's models). Its orig tarball carries no
# configure script (only configure.ac): the eight sources compile like cJSON's, with the version
# macros configure would define taken from the package's changelog.
build_libyaml() {
  local v f
  v=$(dpkg-parsechangelog -l debian/changelog -SVersion)
  v=${v%-*}
  for f in src/*.c; do
    $CC $CFLAGS -Iinclude -DYAML_VERSION_MAJOR="${v%%.*}" -DYAML_VERSION_MINOR="$(cut -d. -f2 <<<"$v")" \
      -DYAML_VERSION_PATCH="${v##*.}" -DYAML_VERSION_STRING="\"$v\"" -c -o "${f%.c}.o" "$f"
  done
  ar rcs libyaml.a src/*.o
  cp include/yaml.h "$prefix/include/"
  cp libyaml.a "$prefix/lib/"
}

"build_$name"
