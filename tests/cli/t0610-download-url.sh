#!/bin/sh
# sparkctl download URL: plain files, and archives that libarchive extracts
# only when every entry stays inside the target.
. "$(dirname "$0")/test-lib.sh"
WWW="$TRASH/www"
mkdir -p "$WWW"
python3 - "$WWW" <<'PY' || echo "Bail out! cannot build the archives"
import io, os, sys, tarfile, zipfile
w = sys.argv[1]
def tar(name, entries, mode="w"):
    with tarfile.open(os.path.join(w, name), mode) as t:
        for e in entries:
            ti = tarfile.TarInfo(e["name"])
            data = e.get("data", b"")
            ti.type = e.get("type", tarfile.REGTYPE)
            ti.linkname = e.get("link", "")
            ti.size = len(data) if ti.type == tarfile.REGTYPE else 0
            if ti.type in (tarfile.CHRTYPE, tarfile.BLKTYPE):
                ti.devmajor, ti.devminor = 1, 3
            t.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
tar("good.tar.gz", [{"name": "gguf-model/", "type": tarfile.DIRTYPE}, {"name": "gguf-model/README.md", "data": b"# hi\n"},
                    {"name": "gguf-model/weights.bin", "data": os.urandom(100000)},
                    {"name": "gguf-model/latest", "type": tarfile.SYMTYPE, "link": "weights.bin"}], "w:gz")
tar("absolute.tar", [{"name": "ok.txt", "data": b"x"}, {"name": "/tmp/sparkctl-escape-abs", "data": b"pwned"}])
tar("dotdot.tar", [{"name": "ok.txt", "data": b"x"}, {"name": "sub/../../escape-dotdot", "data": b"pwned"}])
tar("symlink.tar", [{"name": "ok.txt", "data": b"x"}, {"name": "evil", "type": tarfile.SYMTYPE, "link": "../../outside"}])
tar("hardlink.tar", [{"name": "ok.txt", "data": b"x"}, {"name": "evil", "type": tarfile.LNKTYPE, "link": "../outside"}])
tar("device.tar", [{"name": "ok.txt", "data": b"x"}, {"name": "null", "type": tarfile.CHRTYPE}])
with zipfile.ZipFile(os.path.join(w, "dotdot.zip"), "w") as z:
    z.writestr("ok.txt", b"x")
    z.writestr("../escape-zip", b"pwned")
# escapes through links already extracted in an entry's parent path
S, L, H, D = tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE, None
chain = [{"name": "s", "type": S, "link": "."}] + [{"name": "s/" * i + "t", "type": S, "link": "."} for i in range(1, 4)]
tar("chain-dot.tar", [{"name": "ok.txt", "data": b"x"}, {"name": "s", "type": S, "link": "."},
                      {"name": "s/s/s/s/s/pwned-chain", "data": b"pwned"}])
tar("chain-up.tar", [{"name": "d/", "type": H}, {"name": "d/up", "type": S, "link": ".."},
                     {"name": "d/up/up/pwned-up", "data": b"pwned"}])
tar("link-dotdot.tar", [{"name": "ok.txt", "data": b"x"}, {"name": "up", "type": S, "link": ".."}])
tar("link-via-link.tar", [{"name": "s", "type": S, "link": "a"}, {"name": "a/", "type": H},
                          {"name": "t", "type": S, "link": "s/x"}, {"name": "a/x", "type": S, "link": "../../.."}])
tar("link-then-dir.tar", [{"name": "out", "type": S, "link": "real"}, {"name": "real/", "type": H},
                          {"name": "out/pwned-ltd", "data": b"pwned"}])
tar("link-then-file.tar", [{"name": "ok.txt", "data": b"x"}, {"name": "w", "type": S, "link": "ok.txt"},
                           {"name": "w", "data": b"replaced"}])
tar("file-twice.tar", [{"name": "ok.txt", "data": b"x"}, {"name": "ok.txt", "data": b"y"}])
tar("hard-abs.tar", [{"name": "ok.txt", "data": b"x"}, {"name": "pw", "type": L, "link": "/etc/passwd"}])
tar("hard-via-link.tar", [{"name": "s", "type": S, "link": "."}, {"name": "pw", "type": L, "link": "s/../../outside"}])
tar("hard-to-link.tar", [{"name": "ok.txt", "data": b"x"}, {"name": "l", "type": S, "link": "ok.txt"},
                         {"name": "h", "type": L, "link": "l"}])
def zsym(z, name, target):
    zi = zipfile.ZipInfo(name)
    zi.create_system = 3
    zi.external_attr = (0o120777 << 16)
    z.writestr(zi, target)
with zipfile.ZipFile(os.path.join(w, "chain.zip"), "w") as z:
    zsym(z, "s", ".")
    z.writestr("s/s/s/pwned-zip", b"pwned")
with zipfile.ZipFile(os.path.join(w, "link-out.zip"), "w") as z:
    z.writestr("ok.txt", b"x")
    zsym(z, "d", "../..")
with zipfile.ZipFile(os.path.join(w, "good-link.zip"), "w") as z:
    z.writestr("m/weights.bin", b"w" * 1000)
    zsym(z, "m/latest", "weights.bin")
    zsym(z, "top", "m/weights.bin")
open(os.path.join(w, "plain.json"), "w").write('{"a": 1}\n')
PY
PORT=$(free_port)
(cd "$WWW" && exec python3 -m http.server --bind 127.0.0.1 $PORT >/dev/null 2>&1) &
test_cleanup "kill $!"
U="http://127.0.0.1:$PORT"
wait_until 10 sh -c "python3 -c 'import urllib.request; urllib.request.urlopen(\"$U/plain.json\")' 2>/dev/null"
export SPARKCTL_CONFIG=/dev/null
listing() { (cd "$1" && find . -path ./.sparkctl -prune -o -print | sort); }

test_expect "a plain file is fetched into the folder" '
	run 0 sparkctl download --to "$TRASH/p" "$U/plain.json" && cmp "$WWW/plain.json" "$TRASH/p/plain.json" && has out "fetched plain.json"'
test_expect "an archive is extracted into the folder, links inside kept, no temporary left" '
	run 0 sparkctl download --to "$TRASH/t" "$U/good.tar.gz" && has out "extracted good.tar.gz: 2 files" &&
	[ "$(cat "$TRASH/t/gguf-model/README.md")" = "# hi" ] && [ "$(readlink "$TRASH/t/gguf-model/latest")" = weights.bin ] &&
	[ -z "$(ls "$TRASH/t/.sparkctl" | grep unpack)" ] && [ ! -e "$TRASH/t/.sparkctl/archives/good.tar.gz" ]'
test_expect "a zip with links inside is extracted, its links kept as links" '
	run 0 sparkctl download --to "$TRASH/z" "$U/good-link.zip" && [ "$(readlink "$TRASH/z/m/latest")" = weights.bin ] &&
	[ "$(readlink "$TRASH/z/top")" = m/weights.bin ] && [ "$(wc -c <"$TRASH/z/top")" = 1000 ]'
for a in absolute.tar dotdot.tar symlink.tar hardlink.tar device.tar dotdot.zip chain-dot.tar chain-up.tar \
	link-dotdot.tar link-via-link.tar link-then-dir.tar link-then-file.tar file-twice.tar hard-abs.tar \
	hard-via-link.tar hard-to-link.tar chain.zip link-out.zip; do
	test_expect "$a is refused, with nothing written outside the target or into it" '
		mkdir -p "$TRASH/x/'$a'/in" && echo keep >"$TRASH/x/'$a'/in/existing" && before=$(listing "$TRASH/x/'$a'/in") &&
		run 1 sparkctl download --to "$TRASH/x/'$a'/in" "$U/'$a'" && has err "refused: .*\(nothing was extracted\)" &&
		[ "$(listing "$TRASH/x/'$a'/in")" = "$before" ] && [ ! -e /tmp/sparkctl-escape-abs ] &&
		[ -z "$(ls "$TRASH/x/'$a'" | grep -v "^in$")" ] && [ ! -e "$TRASH/escape-dotdot" ] && [ ! -e "$TRASH/x/escape-zip" ] &&
		[ -z "$(find "$TRASH" -name "pwned*" | head -1)" ] &&
		[ -z "$(ls "$TRASH/x/'$a'/in/.sparkctl" | grep unpack)" ]'
done
test_expect "an archive would not replace what is there" '
	run 1 sparkctl download --to "$TRASH/t" "$U/good.tar.gz" && has err "gguf-model already exists: not replaced"'
test_expect "a URL that answers 404 is one clear error" '
	run 1 sparkctl download --to "$TRASH/n" "$U/missing.tar" && has err "download: .*HTTP 404"'
test_done
