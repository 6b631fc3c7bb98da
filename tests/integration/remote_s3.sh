#!/bin/sh
# Native S3 against s3rver (started here, behind the SigV4 check of the unit tests), and the
# seed's bucket commands:
#   s3          a cold build pushes; a copy elsewhere with a fresh local state is 100 % hits
#   wrong_key   a wrong secret key: one clear line on stderr for the whole build, the build
#               succeeds uncached, the secret appears nowhere
#   bucket_cmd  gs:// through WAFCACHE_CMD, a stand-in copy script over a directory
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup remote_s3
. "$WC_TESTS/lib/remote_servers.sh"
need_tools make gcc g++ ar
WAFCACHE_TIMEOUT=2
export WAFCACHE_TIMEOUT

case_s3() {
    remote_scope
    remote_start_s3rver
    remote_s3_env
    WAFCACHE=s3://wafcache-test/team/
    export WAFCACHE
    remote_machine a
    remote_project p1
    wc_build "s3: cold build" make -j2
    expect_cold "s3: cold build" "$NCMDS"
    [ "$(remote_files "$S3_DATA")" -gt "$NCMDS" ] || fail "s3: s3rver holds too few objects"
    remote_machine b
    remote_project p2
    wc_build "s3: build elsewhere" make -j2
    expect_all_hits "s3: build elsewhere" "$NCMDS"
    expect_program ./prog "s3: build elsewhere"
    compare_trees "$T/p1" "$T/p2" "s3: hits vs cold build" objects

    note "wrong secret key"
    AWS_SECRET_ACCESS_KEY=wrong-secret-4711
    export AWS_SECRET_ACCESS_KEY
    remote_machine c
    remote_project p3
    wc_build "s3: wrong key" make -j2
    expect_stats "$NCMDS" 0 0 "s3: wrong key"
    expect_program ./prog "s3: wrong key"
    _n=$(grep -c '^wafcache: remote cache unavailable' "$WC_ERR" || true)
    [ "$_n" = 1 ] || fail "s3: wrong key: expected one line about the store, got $_n"
    grep '^wafcache: remote cache unavailable' "$WC_ERR" | grep -qi 'signature\|403\|denied' ||
        fail "s3: wrong key: the line does not say why: $(grep '^wafcache: remote' "$WC_ERR")"
    note "$(grep '^wafcache: remote cache unavailable' "$WC_ERR")"
    ! grep -q wrong-secret-4711 "$WC_ERR" "$WAFCACHE_LOG" || fail "s3: the secret key was printed"
}

case_bucket_cmd() {
    remote_scope
    cat >"$T/fakecp" <<'EOS'
#!/bin/sh
# fakecp SRC TGT: gsutil cp over a directory standing in for the bucket.
map() { case "$1" in gs://*) echo "$FAKE_BUCKET/${1#gs://}" ;; *) echo "$1" ;; esac; }
src=$(map "$1"); tgt=$(map "$2")
mkdir -p "$(dirname "$tgt")" && cp "$src" "$tgt.tmp.$$" && mv "$tgt.tmp.$$" "$tgt"
EOS
    chmod +x "$T/fakecp"
    FAKE_BUCKET=$T/bucket
    WAFCACHE=gs://wafcache/ci/
    WAFCACHE_CMD="$T/fakecp %{SRC} %{TGT}"
    export FAKE_BUCKET WAFCACHE WAFCACHE_CMD
    remote_machine a
    remote_project p1
    wc_build "gs: cold build" make -j2
    expect_cold "gs: cold build" "$NCMDS"
    remote_machine b
    remote_project p2
    wc_build "gs: build elsewhere" make -j2
    expect_all_hits "gs: build elsewhere" "$NCMDS"
    expect_program ./prog "gs: build elsewhere"
}

run_case s3
run_case bucket_cmd
finish
