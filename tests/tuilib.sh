# Helpers for the console's end-to-end tests: the program runs in a real
# terminal (a private tmux server), keys are sent with send-keys and the
# screen is read with capture-pane, polled every 50 ms (never a fixed sleep).
# Source after tests/lib.sh:  . "$top_srcdir/tests/tuilib.sh"

need tmux

# Each start gets its own tmux server: reusing a socket races with the
# previous server's exit.
TUI_RUN=0
TUI_SOCK="fluenzr-$TEST_NAME-$$-0"
# -u: the pane speaks UTF-8 whatever this shell's locale; -f /dev/null: no
# user configuration.
tm() { tmux -u -L "$TUI_SOCK" -f /dev/null "$@"; }

# tui_env: a private home for the store, key file and XDG directories, and
# a UTF-8 locale. Sets T (temp dir), STORE, KEYFILE.
tui_env() {
	setup_home
	export FLUENZR_STORE="$STORE" FLUENZR_KEY_FILE="$KEYFILE"
	export LANG=C.UTF-8 LC_ALL=C.UTF-8
	unset NO_COLOR
}

# shq STRING: STRING quoted for sh.
shq() { printf "'%s'" "$(printf %s "$1" | sed "s/'/'\\\\''/g")"; }

# tui_start [-x COLS] [-y ROWS] COMMAND...: runs COMMAND in a fresh pane.
# The pane's shell records `stty -a` before and after, the exit status in
# $T/rc and the program's pid in $T/pid; the pane stays open afterwards so
# that the screen can still be read.
tui_start() {
	local x=80 y=24 a
	while :; do
		case ${1:-} in
		-x) x=$2; shift 2;;
		-y) y=$2; shift 2;;
		*) break;;
		esac
	done
	rm -f "$T/rc" "$T/pid" "$T/stty.before" "$T/stty.after"
	{
		echo '#!/bin/sh'
		for a in FLUENZR_STORE FLUENZR_KEY_FILE FLUENZR_PRESET_DIR HOME \
		         XDG_DATA_HOME XDG_CONFIG_HOME LANG LC_ALL NO_COLOR; do
			eval "isset=\${$a+x} v=\${$a-}"
			[ -n "$isset" ] && echo "export $a=$(shq "$v")"
		done
		echo "stty -a > '$T/stty.before' 2>&1"
		printf 'sh -c '\''echo $$ > "%s/pid"; exec "$@"'\'' sh' "$T"
		for a in "$@"; do printf ' %s' "$(shq "$a")"; done
		echo
		echo "echo \$? > '$T/rc.tmp'"
		echo "stty -a > '$T/stty.after' 2>&1"
		echo "mv '$T/rc.tmp' '$T/rc'"
		echo 'echo "[program exited]"'
		echo 'exec sleep 3600'
	} > "$T/run.sh"
	tm kill-server >/dev/null 2>&1 || true
	TUI_RUN=$((TUI_RUN + 1))
	TUI_SOCK="fluenzr-$TEST_NAME-$$-$TUI_RUN"
	at_exit "tmux -L '$TUI_SOCK' kill-server >/dev/null 2>&1"
	tm new-session -d -x "$x" -y "$y" "sh '$T/run.sh'" || fail "tmux new-session"
	# Do not let the window follow a client's size: there is none.
	tm set-option -g window-size manual >/dev/null 2>&1 || true
}

screen() { tm capture-pane -p -J 2>/dev/null; }

# wait_screen TEXT [SECONDS]: until TEXT (fixed string) is on the screen.
wait_screen() {
	local text=$1 limit=${2:-10} start
	start=$(date +%s%N)
	while ! screen | grep -qF -- "$text"; do
		if [ $(( ($(date +%s%N) - start) / 1000000 )) -ge $((limit * 1000)) ]; then
			echo "--- screen while waiting for: $text" >&2
			screen >&2
			echo "---" >&2
			fail "'$text' did not appear within ${limit}s"
		fi
		sleep 0.05
	done
}

# wait_title TITLE [SECONDS]: until the title bar (the top line) names
# TITLE. A screen is identified by its title, not by a word of its body
# that another screen may show too ("Status" is also on the store screen).
wait_title() {
	local title=$1 limit=${2:-10} start
	start=$(date +%s%N)
	while ! screen | head -n 1 | grep -qE -- "^ $(re_quote "$title") +(\[store locked\]|fluenzr-tui) *$"; do
		if [ $(( ($(date +%s%N) - start) / 1000000 )) -ge $((limit * 1000)) ]; then
			echo "--- screen while waiting for the title: $title" >&2
			screen >&2
			echo "---" >&2
			fail "the title '$title' did not appear within ${limit}s"
		fi
		sleep 0.05
	done
}

# re_quote STRING: STRING as an extended regular expression of itself.
re_quote() { printf %s "$1" | sed 's/[][\\.*^$+?(){}|/]/\\&/g'; }

# Golden screens: expect_screen NAME [SECONDS] waits until the whole pane,
# normalised, equals tests/screens/NAME.txt, and shows the difference when
# it does not within SECONDS. Only what truly varies from run to run is
# normalised (screen_normalise); with FLUENZR_REGEN_SCREENS=1 the file is
# written from the screen instead (the screen is first left to settle).
SCREENS_DIR=$top_srcdir/tests/screens

# screen_normalise: filters a capture. Each mail stack port and the temp
# directory become names; durations (right-aligned), relative times
# (left-aligned), dates, clock times, Message-IDs and certificate
# fingerprints, the mail server's queue ids become placeholders that keep
# the columns where they were; trailing blanks go.
screen_normalise() {
	T=${T:-} "$PY" -c '
import os, re, sys
ports = sorted({v for k, v in os.environ.items()
                if re.fullmatch(r"MAILSTACK_[A-Z_]+_PORT", k) and v.isdigit()},
               key=len, reverse=True)
tdir = os.environ.get("T", "")
def keep(width, text, right):
    text = text[:width] if len(text) > width else text
    return text.rjust(width) if right else text.ljust(width)
for line in sys.stdin.read().splitlines():
    if tdir:
        line = line.replace(tdir, "<T>")
    for p in ports:
        line = re.sub(r"(?<![0-9])%s(?![0-9])" % p, "P" * len(p), line)
    line = re.sub(r"( *)([0-9]+) ms\b",
                  lambda m: keep(len(m.group(0)), "N ms", True), line)
    line = re.sub(r"\b(just now|[0-9]+[mhd] ago)( *)",
                  lambda m: keep(len(m.group(0)), "<when>", False), line)
    line = re.sub(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "YYYY-MM-DD", line)
    line = re.sub(r"[0-9]{2}:[0-9]{2}:[0-9]{2}", "HH:MM:SS", line)
    line = re.sub(r"(?i)\b([0-9a-f]{2}:){8,}[0-9a-f]{0,2}",
                  lambda m: "X" * len(m.group(0)), line)
    line = re.sub(r"<[^<>@ ]+@[^<>@ ]+>",
                  lambda m: "<" + "x" * (len(m.group(0)) - 2) + ">", line)
    line = re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "x" * 64, line)
    line = re.sub(r"queued as [0-9A-Z]+.*", "queued as <id>...", line)
    # Trailing blanks are not seen, and curses writes them or not.
    print(line.rstrip(" "))
'
}

expect_screen() {
	local name=$1 limit=${2:-10} file start
	file=$SCREENS_DIR/$name.txt
	if [ -n "${FLUENZR_REGEN_SCREENS:-}" ]; then
		sleep 1
		mkdir -p "$SCREENS_DIR"
		screen | screen_normalise > "$file"
		echo "# wrote $file"
		return 0
	fi
	[ -f "$file" ] || fail "no golden screen $file (FLUENZR_REGEN_SCREENS=1 writes it)"
	start=$(date +%s%N)
	while ! screen | screen_normalise | cmp -s - "$file"; do
		if [ $(( ($(date +%s%N) - start) / 1000000 )) -ge $((limit * 1000)) ]; then
			echo "--- screen $name differs from $file:" >&2
			screen | screen_normalise | diff -u "$file" - >&2
			echo "---" >&2
			fail "screen $name is not as expected"
		fi
		sleep 0.05
	done
	echo "# screen $name as expected"
}

# wait_gone TEXT [SECONDS]: until TEXT is no longer on the screen.
wait_gone() {
	local text=$1 limit=${2:-10} start
	start=$(date +%s%N)
	while screen | grep -qF -- "$text"; do
		if [ $(( ($(date +%s%N) - start) / 1000000 )) -ge $((limit * 1000)) ]; then
			screen >&2
			fail "'$text' did not go away within ${limit}s"
		fi
		sleep 0.05
	done
}

# wait_exit [SECONDS]: until the program has exited; prints its status.
wait_exit() {
	wait_for -t "${1:-10}" test -f "$T/rc" || { screen >&2; fail "the program did not exit"; }
	cat "$T/rc"
}

# lacks TEXT STRING: STRING does not contain TEXT (a fixed string).
lacks() { ! grep -qF -- "$1" <<<"$2"; }

# The steps of a good test over STARTTLS submission, in order.
SMTP_STEPS="smtp.connect smtp.starttls smtp.tls smtp.certificate smtp.auth smtp.mail smtp.rcpt smtp.data"

# check_steps_passed SCREEN STEP...: on SCREEN (the test's screen) no step
# failed and every STEP is shown passed with its time.
check_steps_passed() {
	local s=$1 step
	shift
	check "no step failed" lacks '✗' "$s"
	for step in "$@"; do
		check "step $step passed" grep -qE "✓ +$step +[0-9]+ ms" <<<"$s"
	done
}

keys() { tm send-keys "$@"; }
type_text() { tm send-keys -l -- "$1"; }

# The account list in JSON, from the CLI.
list_json() { "$FLUENZR" account list --json; }

# add_account EMAIL PASSWORD CLI-OPTIONS...: adds an account with the CLI,
# the password given on standard input.
add_account() {
	local email=$1 pw=$2
	shift 2
	printf '%s\n' "$pw" | "$FLUENZR" account add --email "$email" --password-stdin "$@" \
		>/dev/null || fail "account add $email"
}

# add_alice_bob [OPTION...]: the stack's two users on its STARTTLS
# submission port: Alice with a wrong password (her tests fail at AUTH),
# Bob with his own (his pass); OPTIONs go to both.
add_alice_bob() {
	add_account "$MAILSTACK_ALICE_USER" "Not-Alice-Password" --name Alice \
		--smtp-host 127.0.0.1 --smtp-port "$MAILSTACK_SMTP_STARTTLS_PORT" \
		--ca-file "$MAILSTACK_CA_FILE" "$@"
	add_account "$MAILSTACK_BOB_USER" "$MAILSTACK_BOB_PASS" --name Bob \
		--smtp-host 127.0.0.1 --smtp-port "$MAILSTACK_SMTP_STARTTLS_PORT" \
		--ca-file "$MAILSTACK_CA_FILE" "$@"
}

# maildir_count DIR: messages delivered to a Maildir (new/ and cur/).
maildir_count() {
	find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l
}
