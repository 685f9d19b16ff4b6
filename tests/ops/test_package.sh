#!/bin/sh
# The Debian package, built, checked, installed and used as an admin would:
#
#   1. builds it with dpkg-buildpackage -us -uc from a copy of the working
#      tree (its files as git lists them, uncommitted work included; the
#      unit tests are left to make check: nocheck), and runs lintian on
#      the .changes: an error or a warning that debian/ does not override
#      fails;
#   2. installs it on this machine (apt-get install ./pbsync_*.deb, which
#      runs the maintainer scripts for real), and checks what postinst
#      made: the pbsync system user, /var/lib/pbsync (0750) and its
#      database, the key file (0600, owner pbsync), the conffile, the
#      enabled units;
#   3. runs the programs: pbsyncctl, each FastCGI program once as CGI,
#      systemd-analyze verify on every installed unit, man -l on every
#      page; then the four programs and the worker as their units run
#      them (spawn-fcgi puts each unit's socket, mode and group on fd 0
#      of its ExecStart=, as the unit's user; systemd is not PID 1 in a
#      container), behind nginx with the packaged routes
#      (/etc/nginx/pbsync/routes.conf), and goes through the sandbox flow:
#      /healthz, the admin login page, an integration made with the
#      packaged pbsyncctl against the Productboard and GitHub doubles of
#      tests/doubles, a Push through nginx that creates the issue;
#   4. reinstalls it (postinst again: the key and the data kept), removes
#      it (the conffile and the data kept), purges it, and checks that
#      nothing of it is left but the pbsync user, which Debian leaves.
#
# Needs root, since it installs on this machine: CI's is a throwaway
# Debian 12 machine.  A machine where pbsync is installed already is not
# touched (skipped).  Prints TAP, then "package: N passed, N failed,
# N skipped"; exits non-zero when a check failed.  PBSYNC_PACKAGE_DEB=FILE
# installs that .deb instead of building one (the build and lintian are
# skipped): for work on the checks of 2 to 4.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
PKG=pbsync
CONF=/etc/pbsync/pbsync.conf
started=$(date +%s)
prebuilt=${PBSYNC_PACKAGE_DEB:-}

n=0 passed=0 failed=0 skipped=0
ok() {
	n=$((n + 1))
	passed=$((passed + 1))
	echo "ok $n - $1"
}
notok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	if [ -n "${2:-}" ] && [ -f "$2" ]; then
		tail -${3:-30} "$2" | sed 's/^/#   /'
	fi
}
# check NAME CMD...: one check, its output in $work/out.
check() {
	name=$1
	shift
	if "$@" >"$work/out" 2>&1; then ok "$name"; else notok "$name" "$work/out"; fi
}
skip() {
	n=$((n + 1))
	skipped=$((skipped + 1))
	echo "ok $n - $1 # SKIP $2"
}
finish() {
	echo "1..$n"
	echo "package: $passed passed, $failed failed, $skipped skipped" \
	    "($(($(date +%s) - started)) s)"
	[ "$failed" -eq 0 ]
	exit
}

work=
installed=0
user_before=1
rundir_before=1
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 150 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$p" 2>/dev/null
	done
	pids=
	if [ "$installed" -eq 1 ]; then
		apt_get purge "$PKG" >/dev/null 2>&1
		installed=0
	fi
	# The user is what Debian leaves; the test leaves the machine as it
	# was.
	if [ "$user_before" -eq 0 ]; then
		getent passwd pbsync >/dev/null &&
		    deluser --system --quiet pbsync >/dev/null 2>&1
		getent group pbsync >/dev/null &&
		    delgroup --system --quiet pbsync >/dev/null 2>&1
	fi
	[ "$rundir_before" -eq 0 ] && rm -rf /run/pbsync
	[ -n "$work" ] && rm -rf "$work"
	work=
}
trap 'cleanup' EXIT
trap 'cleanup; exit 1' INT TERM

# apt-get, waiting for the dpkg lock rather than failing on it.
apt_get() {
	DEBIAN_FRONTEND=noninteractive apt-get -y -q \
	    -o DPkg::Lock::Timeout=300 --no-install-recommends "$@"
}

if [ "$(id -u)" -ne 0 ]; then
	skip "the Debian package" "not root: it installs on this machine"
	finish
fi
missing=
for t in dpkg-buildpackage dh lintian nginx spawn-fcgi curl man \
    systemd-analyze python3 setpriv; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
	skip "the Debian package" "missing:$missing (scripts/install-deps)"
	finish
fi
# Installed, or removed with its configuration kept: the purge at the end
# would delete someone's key and database.
st=$(dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null)
if [ -n "$st" ] && [ "$st" != not-installed ]; then
	skip "the Debian package" "$PKG is on this machine ($st); the test would purge it"
	finish
fi
getent passwd pbsync >/dev/null || user_before=0
[ -e /run/pbsync ] || rundir_before=0
# Only the conffile speaks to the package's programs, and to its postinst.
for v in $(env | sed -n 's/^\(PBSYNC_[A-Za-z0-9_]*\)=.*/\1/p'); do
	unset "$v"
done

work=$(mktemp -d /tmp/pbsync-package.XXXXXX)
# nginx's workers (www-data) go through it to their temporary files.
chmod 755 "$work"
src="$work/$PKG"
mkdir "$src"

# -- 1. build and lintian ------------------------------------------------
# The working tree as git lists it (tracked and new files, not the ignored
# build products); a tree without git is copied whole but for those.
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -co --exclude-standard -z |
	    tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
	    tar -xf - -C "$src"
else
	(cd "$top" && tar --exclude=./build --exclude=./run --exclude=.git \
	    --exclude=autom4te.cache --exclude=node_modules -cf - .) |
	    tar -xf - -C "$src"
fi
if [ -n "$prebuilt" ]; then
	# A developer's shortcut while working on the checks below: a .deb
	# built before; the build and lintian are then skipped.
	cp "$prebuilt" "$work/" || finish
	deb="$work/$(basename "$prebuilt")"
	skip "dpkg-buildpackage and lintian" "PBSYNC_PACKAGE_DEB=$prebuilt"
else
	jobs=$(nproc 2>/dev/null || echo 2)
	t0=$(date +%s)
	if (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$jobs" \
	    dpkg-buildpackage -us -uc) >"$work/build.log" 2>&1; then
		ok "dpkg-buildpackage -us -uc ($(($(date +%s) - t0)) s)"
	else
		notok "dpkg-buildpackage -us -uc" "$work/build.log" 40
		finish
	fi
	deb=$(ls "$work"/${PKG}_*.deb 2>/dev/null | head -1)
	changes=$(ls "$work"/${PKG}_*.changes 2>/dev/null | head -1)
	check "the build made the .deb, the .changes and the source package" \
	    test -f "$deb" -a -f "$changes" -a -f "$work/${PKG}_$(dpkg-deb -f "$deb" Version).dsc"

	# Errors and warnings fail; info, pedantic and experimental tags are
	# shown; overridden tags (O:) carry their reasons in debian/*lintian-
	# overrides.  With --show-overrides lintian's exit status counts the
	# overridden errors too (2), so the verdict is read from its lines; 1 is
	# lintian's own failure.
	lintian -I -E --pedantic --show-overrides "$changes" >"$work/lintian.log" 2>&1
	rc=$?
	grep '^[EWIPX]: ' "$work/lintian.log" | sed 's/^/# lintian: /' | head -40
	o=$(grep -c '^O: ' "$work/lintian.log")
	if [ $rc -ne 1 ] && ! grep -q '^[EW]: ' "$work/lintian.log"; then
		ok "lintian: no error or warning ($o tags overridden)"
	else
		notok "lintian: no error or warning (exit $rc)" "$work/lintian.log"
	fi
fi

# -- 2. install ----------------------------------------------------------
if apt_get install "$deb" >"$work/install.log" 2>&1; then
	installed=1
	ok "apt-get install ./$(basename "$deb")"
else
	installed=1
	notok "apt-get install ./$(basename "$deb")" "$work/install.log"
	finish
fi
# postinst says nothing but what dh_installsystemd's snippets say.
sed -n "/^Setting up $PKG /,/^Processing triggers/p" "$work/install.log" |
    grep -v '^Setting up\|^Created symlink\|^Processing triggers' \
    >"$work/out"
if [ -s "$work/out" ]; then
	notok "postinst prints nothing but the units' symlinks" "$work/out"
else
	ok "postinst prints nothing but the units' symlinks"
fi

uid=$(id -u pbsync 2>/dev/null)
check "postinst made pbsync a system user with no login shell" sh -c \
    "[ -n '$uid' ] && [ '$uid' -lt 1000 ] &&
    getent passwd pbsync | grep -q ':/var/lib/pbsync:/usr/sbin/nologin\$'"
check "/var/lib/pbsync: pbsync's, 0750" \
    test "$(stat -c '%U:%G %a' /var/lib/pbsync 2>&1)" = "pbsync:pbsync 750"
check "the database: /var/lib/pbsync/pbsync.db, pbsync's, 0600" \
    test "$(stat -c '%U %a' /var/lib/pbsync/pbsync.db 2>&1)" = "pbsync 600"
check "the key file: /etc/pbsync/pbsync.key, 32 bytes, pbsync's, 0600" \
    test "$(stat -c '%U:%G %a %s' /etc/pbsync/pbsync.key 2>&1)" = \
    "pbsync:pbsync 600 32"
keysum=$(md5sum /etc/pbsync/pbsync.key 2>/dev/null)
check "/etc/pbsync/pbsync.conf is a registered conffile" sh -c \
    "dpkg-query -W -f='\${Conffiles}\n' $PKG | grep '^ $CONF [0-9a-f]\{32\}\$'"
check "the conffile names the key file and the database" sh -c \
    "grep -q '^key_file = /etc/pbsync/pbsync.key\$' $CONF &&
    grep -q '^database = /var/lib/pbsync/pbsync.db\$' $CONF"
wants=/etc/systemd/system
check "the four sockets and the worker are enabled, the drain timer not" \
    sh -c "for s in admin plugin pbhook glhook; do
	test -L $wants/sockets.target.wants/pbsync-\$s.socket || exit 1
    done
    test -L $wants/multi-user.target.wants/pbsync-worker.service &&
    ! test -e $wants/timers.target.wants/pbsync-drain.timer"
check "the packaged nginx routes: /etc/nginx/pbsync/routes.conf" sh -c \
    "grep -q 'fastcgi_pass unix:/run/pbsync/plugin.sock;' \
    /etc/nginx/pbsync/routes.conf &&
    grep -q 'include /usr/share/pbsync/nginx/fastcgi_params.pbsync;' \
    /etc/nginx/pbsync/routes.conf && test -f /usr/share/pbsync/nginx/pbsync.conf"

# -- 3. the programs -----------------------------------------------------
asp() {
	setpriv --reuid=pbsync --regid=pbsync --init-groups -- "$@"
}
check "pbsyncctl runs: with no command it lists its commands" sh -c \
    "pbsyncctl 2>&1 | grep 'pbsyncctl init'"
check "pbsyncctl integration list, as pbsync with the conffile" \
    asp env PBSYNC_CONFIG=$CONF pbsyncctl integration list
for p in admin plugin pbhook glhook; do
	check "pbsync-$p answers GET /healthz as CGI, as pbsync: 200, key loaded" \
	    sh -c "env -i PBSYNC_CONFIG=$CONF GATEWAY_INTERFACE=CGI/1.1 \
	    REQUEST_METHOD=GET PATH_INFO=/healthz DOCUMENT_URI=/healthz \
	    REQUEST_URI=/healthz REMOTE_ADDR=127.0.0.1 \
	    setpriv --reuid=pbsync --regid=pbsync --init-groups \
	    /usr/libexec/pbsync-$p </dev/null | tee /dev/stderr |
	    grep -q '\"key\":true'"
done

units=$(dpkg -L $PKG | grep '^/lib/systemd/system/pbsync-' | sort)
want=$(cd "$top/systemd" && ls *.in | sed 's|^|/lib/systemd/system/|; s|\.in$||' | sort)
check "the package installs every unit of systemd/ ($(echo "$want" | wc -l))" \
    test "$units" = "$want"
for u in $units; do
	# It warns of an unknown key or a bad value and still exits 0.
	SYSTEMD_LOG_COLOR=0 systemd-analyze verify "$u" >"$work/out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && ! [ -s "$work/out" ]; then
		ok "systemd-analyze verify $u: clean"
	else
		notok "systemd-analyze verify $u: clean (exit $rc)" "$work/out"
	fi
done

pages=$(dpkg -L $PKG | grep '^/usr/share/man/man./.*\.gz$' | sort)
want=$( (cd "$top/man" && ls *.[1-9] | sed 's|^\(.*\)\.\([1-9]\)$|/usr/share/man/man\2/\1.\2.gz|'
    for p in admin plugin pbhook glhook; do
	echo /usr/share/man/man8/pbsync-$p.8.gz
    done) | sort)
check "the package installs every page of man/, and the programs' names" \
    test "$pages" = "$want"
for m in $pages; do
	LC_ALL=C.UTF-8 MANWIDTH=80 MANPAGER=cat man --warnings -l "$m" \
	    >"$work/man.txt" 2>"$work/out"
	rc=$?
	if [ $rc -eq 0 ] && ! [ -s "$work/out" ] && [ -s "$work/man.txt" ]; then
		ok "man -l $m: renders without a warning"
	else
		notok "man -l $m: renders without a warning (exit $rc)" "$work/out"
	fi
done
check "man -w finds every program's page" sh -c \
    "for p in pbsync pbsyncctl pbsync-admin pbsync-plugin pbsync-pbhook \
    pbsync-glhook; do man -w \$p >/dev/null || exit 1; done"

# The sandbox: the Productboard and GitHub doubles on loopback.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
for d in pb gh; do
	python3 "$top/tests/doubles/${d}double.py" --port 0 --sandbox \
	    >"$work/$d.out" 2>"$work/$d.log" &
	pids="$pids $!"
done
pburl= ghurl=
i=0
while [ $i -lt 100 ]; do
	pburl=$(sed -n 's/.*listening on //p' "$work/pb.out" | head -1)
	ghurl=$(sed -n 's/.*listening on //p' "$work/gh.out" | head -1)
	[ -n "$pburl" ] && [ -n "$ghurl" ] && break
	sleep 0.1
	i=$((i + 1))
done
# What the sandbox changes of the conffile, for every process (the units
# would take it from a drop-in): the doubles' URL, and the address nginx
# listens on for the callbacks.
export PBSYNC_PUBLIC_URL="http://127.0.0.1:$port"
export PBSYNC_PRODUCTBOARD_API_URL="$pburl"
export PBSYNC_ALLOW_PRIVATE_UPSTREAMS=true

# The programs as their units run them: each socket unit's ListenStream=,
# SocketMode= and SocketGroup=, its service's ExecStart=, User= and
# Environment=, the listening socket as fd 0 (spawn-fcgi gives the socket
# to the user, where systemd leaves it root's).  Their logs go to $work,
# where systemd would send them to the journal.
setting() {
	sed -n "s/^$2=//p" "/lib/systemd/system/$1" | head -1
}
mkdir -p /run/pbsync "$work/log"
chown pbsync "$work/log"
export PBSYNC_LOG_FILE="$work/log/pbsync.log"
for p in admin plugin pbhook glhook; do
	sock=$(setting pbsync-$p.socket ListenStream)
	mode=$(setting pbsync-$p.socket SocketMode)
	group=$(setting pbsync-$p.socket SocketGroup)
	exe=$(setting pbsync-$p.service ExecStart)
	user=$(setting pbsync-$p.service User)
	envs=$(sed -n 's/^Environment=//p' /lib/systemd/system/pbsync-$p.service)
	rm -f "$sock"
	env $envs spawn-fcgi -s "$sock" -M "$mode" -G "$group" -u "$user" \
	    -P "$work/$p.pid" -- $exe >"$work/out" 2>&1
	pid=$(cat "$work/$p.pid" 2>/dev/null)
	[ -n "$pid" ] && pids="$pids $pid"
	check "pbsync-$p on $sock (mode $mode, group $group), as $user" sh -c \
	    "cat '$work/out'; [ -n '$pid' ] && kill -0 '$pid' &&
	    [ \"\$(stat -c '%a %G' $sock)\" = '${mode#0} $group' ] &&
	    [ \"\$(ps -o user= -p $pid)\" = '$user' ]"
done
exe=$(setting pbsync-worker.service ExecStart)
user=$(setting pbsync-worker.service User)
envs=$(sed -n 's/^Environment=//p' /lib/systemd/system/pbsync-worker.service)
env $envs setpriv --reuid="$user" --regid="$user" --init-groups -- $exe \
    >>"$work/worker.log" 2>&1 &
worker=$!
pids="$pids $worker"

cat >"$work/nginx.conf" <<EOF
user www-data;
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events {
	worker_connections 64;
}
http {
	access_log $work/nginx-access.log;
	client_body_temp_path $work/nginx-tmp/body;
	fastcgi_temp_path $work/nginx-tmp/fastcgi;
	proxy_temp_path $work/nginx-tmp/proxy;
	uwsgi_temp_path $work/nginx-tmp/uwsgi;
	scgi_temp_path $work/nginx-tmp/scgi;
	# As /usr/share/pbsync/nginx/pbsync.conf at the http level.
	limit_req_zone \$binary_remote_addr zone=pbsync_inbound:10m rate=50r/s;
	limit_conn_zone \$binary_remote_addr zone=pbsync_inbound_conn:10m;
	server {
		listen 127.0.0.1:$port;
		include /etc/nginx/pbsync/routes.conf;
	}
}
EOF
mkdir -p "$work/nginx-tmp"
nginx -p "$work" -c "$work/nginx.conf" -e "$work/nginx-error.log" \
    >>"$work/nginx-error.log" 2>&1 &
pids="$pids $!"
base="http://127.0.0.1:$port"
i=0
while [ $i -lt 100 ]; do
	curl -s -o /dev/null "$base/healthz" && break
	sleep 0.1
	i=$((i + 1))
done
check "GET /healthz through nginx: 200, database ok, key loaded" sh -c \
    "curl -sS -f '$base/healthz' | tee /dev/stderr |
    python3 -c 'import json, sys; j = json.load(sys.stdin);
sys.exit(not (j[\"status\"] == \"ok\" and j[\"database\"] == \"ok\" and
j[\"key\"] is True and j[\"program\"] == \"pbsync-plugin\"))'"
check "GET /admin/login through nginx: the login page from the packaged templates" \
    sh -c "curl -sS -f '$base/admin/login' | grep -q '<form'"
check "an unknown integration's webhooks get 401 through nginx's auth_request" \
    sh -c "for r in webhooks/gittab webhooks/productboard plugin; do
	c=\$(curl -sS -o /dev/null -w '%{http_code}' -X POST \
	    -H 'Content-Type: application/json' -d '{}' \
	    '$base/'\$r/0123456789abcdef0123456789abcdef)
	echo \"\$r: \$c\"; [ \"\$c\" = 401 ] || exit 1
    done"

# The sandbox flow: an integration with the packaged pbsyncctl (the
# Productboard double probes the plugin URL through nginx), then a Push.
if [ -z "$pburl" ] || [ -z "$ghurl" ]; then
	notok "the Productboard and GitHub doubles start" "$work/pb.log"
else
	asp env PBSYNC_CONFIG=$CONF PBSYNC_PB_TOKEN=pb-sandbox-token \
	    PBSYNC_TRACKER_TOKEN=gh-sandbox-token pbsyncctl integration add \
	    --name Demo --tracker github --url "$ghurl" --project sandbox/demo \
	    >"$work/out" 2>&1
	rc=$?
	iid=$(grep -o '[0-9a-f]\{32\}' "$work/out" | head -1)
	if [ $rc -eq 0 ] && [ -n "$iid" ]; then
		ok "pbsyncctl integration add: GitHub sandbox/demo, id $iid"
	else
		notok "pbsyncctl integration add (exit $rc)" "$work/out"
	fi
	plugin=$(asp env PBSYNC_CONFIG=$CONF pbsyncctl integration show "$iid" \
	    2>/dev/null | sed -n 's/^plugin_integration_id\t//p')
	curl -sS "$pburl/_double/state" >"$work/pb-state.json" 2>&1
	feature=$(python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))["features"]
print(sorted(f)[0])' "$work/pb-state.json" 2>/dev/null)
	curl -sS -X POST -H 'Content-Type: application/json' \
	    -d "{\"entityId\":\"$feature\",\"trigger\":\"button.push\"}" \
	    "$pburl/_double/plugin-integrations/$plugin/trigger" \
	    >"$work/trigger.out" 2>&1
	i=0
	while [ $i -lt 100 ]; do
		asp env PBSYNC_CONFIG=$CONF pbsyncctl links "$iid" \
		    >"$work/links.out" 2>&1
		grep -q "$feature" "$work/links.out" && break
		sleep 0.1
		i=$((i + 1))
	done
	curl -sS "$ghurl/_double/state" >"$work/gh-state.json" 2>&1
	# Productboard stored pbsync's answer "connected", GitHub has the
	# issue, named as the feature, and pbsync the link.
	check "Push through nginx: Productboard shows the feature connected, the GitHub double has its issue, pbsyncctl links lists it" \
	    python3 -c '
import json, sys
w = sys.argv[1]
feature = sys.argv[2]
trig = json.load(open(w + "/trigger.out"))
name = json.load(open(w + "/pb-state.json"))["features"][feature]["name"]
issues = json.load(open(w + "/gh-state.json"))["issues"]
links = open(w + "/links.out").read()
print(trig, [i.get("title") for i in issues], links, sep="\n")
sys.exit(not (trig["stored"]["state"] == "connected" and
              [i["title"] for i in issues] == [name] and feature in links))
' "$work" "$feature"
fi

# Stop them as systemd would (SIGTERM), the programs first.
for p in $pids; do kill "$p" 2>/dev/null; done
stopped=1
for p in $pids; do
	i=0
	while kill -0 "$p" 2>/dev/null && [ $i -lt 150 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 "$p" 2>/dev/null && stopped=0
done
check "SIGTERM stops the programs, the worker, nginx and the doubles within 15 s" \
    test $stopped -eq 1
for p in $pids; do kill -9 "$p" 2>/dev/null; done
pids=
check "no process left running as pbsync" sh -c "! ps -u pbsync -o pid=,args="
[ "$rundir_before" -eq 0 ] && rm -rf /run/pbsync
unset PBSYNC_PUBLIC_URL PBSYNC_PRODUCTBOARD_API_URL \
    PBSYNC_ALLOW_PRIVATE_UPSTREAMS PBSYNC_LOG_FILE
grep -i 'error\|crit\|emerg' "$work/nginx-error.log" | head -5 |
    sed 's/^/# nginx: /'

# -- 4. reinstall, remove, purge -----------------------------------------
check "reinstall: apt-get install --reinstall" apt_get install --reinstall "$deb"
check "reinstall keeps the key file and the integration" sh -c \
    "[ \"\$(md5sum /etc/pbsync/pbsync.key)\" = '$keysum' ] &&
    [ \"\$(stat -c '%U %a' /etc/pbsync/pbsync.key)\" = 'pbsync 600' ] &&
    setpriv --reuid=pbsync --regid=pbsync --init-groups env \
    PBSYNC_CONFIG=$CONF pbsyncctl integration list | grep -q Demo"
check "remove: apt-get remove" apt_get remove "$PKG"
check "remove keeps the conffile, the key file and the database" \
    test -f $CONF -a -f /etc/pbsync/pbsync.key -a -f /var/lib/pbsync/pbsync.db
check "purge: apt-get purge" apt_get purge "$PKG"
installed=0
left=
for f in /etc/pbsync /var/lib/pbsync /var/log/pbsync /etc/nginx/pbsync \
    /usr/share/pbsync /usr/share/doc/pbsync /usr/bin/pbsyncctl; do
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done
left="$left $(ls /lib/systemd/system/pbsync-* /etc/systemd/system/*/pbsync-* \
    /var/lib/systemd/deb-systemd-helper-enabled/*pbsync* \
    /var/lib/systemd/deb-systemd-helper-enabled/*/pbsync-* \
    /usr/share/man/man*/pbsync* /usr/libexec/pbsync-* 2>/dev/null)"
left=$(echo $left)
check "purge leaves nothing but the pbsync user${left:+ (left:$left)}" sh -c \
    "[ -z '$left' ] && ! dpkg-query -W -f='\${Status}' $PKG 2>/dev/null |
    grep -q installed"
finish
