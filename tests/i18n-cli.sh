#!/bin/bash
# The commands in French and Hindi, with the catalogs as `make install`
# leaves them (tests/i18n-lib.sh): --help and an error message in each
# language, LANGUAGE over LANG, English when there is no catalog for the
# locale, and --json output byte for byte the same in every language.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/i18n-lib.sh"
need "$PY"
i18n_setup
export FLUENZR_STORE=$STORE FLUENZR_KEY_FILE=$KEYFILE

# not_in TEXT STRING: TEXT (fixed) is not in STRING.
not_in() { ! grep -qF -- "$1" <<<"$2"; }

run() { # run LANG [VAR=VALUE...] -- ARGS...: stdout+stderr in $out, status in $rc
	local l=$1; shift
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	rc=0
	out=$(env LANG="$l" "${envs[@]}" "$FLUENZR" "$@" 2>&1) || rc=$?
}

# --help
run C.UTF-8 -- --help; en_help=$out
check "English --help" grep -q '^Commands:$' <<<"$en_help"
run fr_FR.UTF-8 -- --help
check "French --help" grep -q '^Commandes :$' <<<"$out"
check "... the page's words: no English description left" not_in "Set up and diagnose" "$out"
check "... option names kept" grep -qF -- "--passphrase-fd N" <<<"$out"
run hi_IN.UTF-8 -- --help
check "Hindi --help" grep -q '^कमांड:$' <<<"$out"
check "... no English description left" not_in "manage sending accounts" "$out"
check "... option names kept" grep -qF -- "--key-file FILE" <<<"$out"

# an error message; the exit status is the same in every language
run C.UTF-8 -- --no-such-option; en_rc=$rc
check "English error" grep -qF "unknown option '--no-such-option'" <<<"$out"
run fr_FR.UTF-8 -- --no-such-option
check "French error" grep -qF "option inconnue « --no-such-option »" <<<"$out"
check "... same exit status ($rc)" [ "$rc" = "$en_rc" ]
run hi_IN.UTF-8 -- --no-such-option
check "Hindi error" grep -qF "अज्ञात विकल्प '--no-such-option'" <<<"$out"
check "... same exit status ($rc)" [ "$rc" = "$en_rc" ]
run hi_IN.UTF-8 -- test
check "Hindi error of a command" grep -qF "fluenzr-tui test: कौन सा खाता? (या --all)" <<<"$out"
check "... and its usage" grep -qF "उपयोग: fluenzr-tui test ACCOUNT" <<<"$out"
run fr_FR.UTF-8 -- test
check "French error of a command" grep -qF "fluenzr-tui test : quel compte ? (ou --all)" <<<"$out"

# LANGUAGE chooses over LANG; a locale without a catalog is English
run hi_IN.UTF-8 LANGUAGE=fr -- --help
check "LANGUAGE=fr with LANG=hi_IN.UTF-8: French" grep -q '^Commandes :$' <<<"$out"
run de_DE.UTF-8 -- --help
check "de_DE.UTF-8 (no catalog): English" [ "$out" = "$en_help" ]
run de_DE.UTF-8 -- --no-such-option
check "... English errors too" grep -qF "unknown option '--no-such-option'" <<<"$out"

# The diagnosis of a reply: translated for people, identical for programs.
reply='535 5.7.8 Authentication credentials invalid'
run fr_FR.UTF-8 -- explain "$reply"
check "explain in French: the page's title" grep -qF "Échec de l'authentification" <<<"$out"
check "... and its fixes" grep -qF "mot de passe d'application" <<<"$out"
check "... the category stays" grep -qF "auth_failed: bad_credentials" <<<"$out"
run hi_IN.UTF-8 -- explain "$reply"
check "explain in Hindi: the page's title" grep -qF "प्रमाणीकरण विफल" <<<"$out"
check "... and its fixes" grep -qF "ऐप पासवर्ड" <<<"$out"
# json_same ARGS...: the command's output in every language is that of C.UTF-8.
json_same() {
	local l same=true
	LANG=C.UTF-8 "$FLUENZR" "$@" >"$T/en.json" 2>&1
	for l in fr_FR.UTF-8 hi_IN.UTF-8 de_DE.UTF-8 "hi_IN.UTF-8 LANGUAGE=fr"; do
		# shellcheck disable=SC2086
		env LANG=$l "$FLUENZR" "$@" >"$T/l.json" 2>&1
		cmp -s "$T/en.json" "$T/l.json" || { same=false; diff "$T/en.json" "$T/l.json" | head -5 >&2; }
	done
	check "$* --json: the same in every language" $same
}
json_same explain --json "$reply"
json_same presets --json
json_same account list --json
json_same explain --json --step rcpt '550 5.1.1 No such user here'
check "... and --json holds the English title" grep -qF '"title": "Recipient rejected"' "$T/en.json"

# A live test against the mail stack: its steps' details are the probe's
# sentences, translated on the text output and English in --json.
start_mailstack
"$FLUENZR" account add --email "$MAILSTACK_BOB_USER" --smtp-host 127.0.0.1 \
	--smtp-port "$MAILSTACK_SMTP_STARTTLS_PORT" --ca-file "$MAILSTACK_CA_FILE" \
	--imap-host 127.0.0.1 --imap-port "$MAILSTACK_IMAPS_PORT" --imap-security ssl \
	--password-stdin <<<"$MAILSTACK_BOB_PASS" >/dev/null 2>"$T/add.err" ||
	fail "account add: $(cat "$T/add.err")"
# live_same: `test --json` in every language is that of C.UTF-8, once what
# differs from one run to the next (times, durations, queue ids, the test
# token, the messages earlier runs left in INBOX and their numbers) is set
# aside.
live_norm() {
	$PY -c 'import json, re, sys
j = json.load(open(sys.argv[1]))
# the server'"'"'s lines in the transcript: its words, whatever they say;
# of ours, each kind once, without its IMAP tag, and not the folder polls:
# whether and how often INBOX and Junk were searched depends on when the
# message arrived, not on a language
poll = re.compile(r"(EXAMINE|SELECT|SEARCH|UID|FETCH|NOOP|CHECK|STATUS|CLOSE)\b")
seen, mine = set(), []
for e in j["transcript"]:
    if e["dir"] == "S":
        continue
    k = (e["dir"], re.sub(r"^[0-9]+ ", "", e["text"]))
    if poll.match(k[1]):
        continue
    if k not in seen:
        seen.add(k)
        mine.append({"dir": k[0], "text": k[1]})
j["transcript"] = mine
t = json.dumps(j, indent=1, ensure_ascii=False)
for pat, rep in ((r"[0-9]+ ms", "N ms"), (r"\"(\w*ms|time|when)\": [0-9]+", r"\"\1\": N"),
                 (r"<[^>@\"]*@", "<ID@"), (r"queued as [0-9A-F]+", "queued as ID"),
                 (r"INBOX, [0-9]+ ", "INBOX, N "), (r"FETCH [0-9]+ ", "FETCH N "),
                 (r"[0-9a-f]{24}", "TOKEN")):
    t = re.sub(pat, rep, t)
print(t)' "$1"
}
live_same() {
	local l same=true
	LANG=C.UTF-8 "$FLUENZR" test "$MAILSTACK_BOB_USER" --json >"$T/en.raw" 2>&1
	live_norm "$T/en.raw" >"$T/en.live"
	for l in fr_FR.UTF-8 hi_IN.UTF-8 "hi_IN.UTF-8 LANGUAGE=fr"; do
		# shellcheck disable=SC2086
		env LANG=$l "$FLUENZR" test "$MAILSTACK_BOB_USER" --json >"$T/l.raw" 2>&1
		live_norm "$T/l.raw" >"$T/l.live"
		cmp -s "$T/en.live" "$T/l.live" || { same=false; diff "$T/en.live" "$T/l.live" | head -8 >&2; }
	done
	check "test --json: the same in every language" $same
}
live_same
check "... its steps' details in English" grep -qF '"detail": "the test message is in INBOX after' "$T/en.raw"
run fr_FR.UTF-8 -- test "$MAILSTACK_BOB_USER"
check "test in French: the probe's own sentences" grep -qF "le message de test est dans INBOX après" <<<"$out"
check "... and the folders" grep -qF "Envoyés" <<<"$out"
run hi_IN.UTF-8 -- test "$MAILSTACK_BOB_USER"
check "test in Hindi: the probe's own sentences" grep -qF "परीक्षण संदेश" <<<"$out"
check "... no English sentence of the probe left" not_in "the test message is in INBOX" "$out"

# account show's labels, the model's reasons and the store's errors
run fr_FR.UTF-8 -- account show "$MAILSTACK_BOB_USER"
check "account show in French: its labels" grep -qF "mot de passe : défini (chiffré)" <<<"$out"
check "... the values stay in one column" grep -qxF "e-mail :       $MAILSTACK_BOB_USER" <<<"$out"
run hi_IN.UTF-8 -- account show "$MAILSTACK_BOB_USER"
# (columns as wcwidth counts them: glibc gives a vowel sign like ा one)
check "account show in Hindi: its labels" grep -qF "पासवर्ड:        सेट (एन्क्रिप्टेड)" <<<"$out"
run fr_FR.UTF-8 -- account add --email no-at-sign --smtp-host 127.0.0.1 --password-stdin
check "an invalid field in French: the reason" grep -qF "n'a pas de « @ » : donnez l'adresse complète" <<<"$out"
run hi_IN.UTF-8 -- account add --email no-at-sign --smtp-host 127.0.0.1 --password-stdin
check "an invalid field in Hindi: the reason" grep -qF "में '@' नहीं है: पूरा पता दें" <<<"$out"
run fr_FR.UTF-8 FLUENZR_STORE="$T/nowhere/s" -- account show "$MAILSTACK_BOB_USER"
check "a store error in French" grep -qF "pas de coffre dans $T/nowhere/s" <<<"$out"
run hi_IN.UTF-8 FLUENZR_STORE="$T/nowhere/s" -- account show "$MAILSTACK_BOB_USER"
check "a store error in Hindi" grep -qF "$T/nowhere/s पर कोई भंडार नहीं" <<<"$out"

# The key file's errors, as a command that opens the store reports them:
# the command to type stays as it is, the sentence around it is translated.
chmod 644 "$KEYFILE"
run fr_FR.UTF-8 -- store check
check "a key file open to others, in French" grep -qF "$KEYFILE est accessible au groupe ou aux autres (mode 0644) ; corrigez-le avec : chmod 600 '$KEYFILE'" <<<"$out"
run hi_IN.UTF-8 -- store check
check "... and in Hindi" grep -qF "$KEYFILE समूह या दूसरों के लिए सुलभ है (मोड 0644); इसे ठीक करें: chmod 600 '$KEYFILE'" <<<"$out"
chmod 600 "$KEYFILE"
run fr_FR.UTF-8 FLUENZR_KEY_FILE="$T/none.key" -- store check
check "a missing key file in French" grep -qF "fichier de clé $T/none.key introuvable" <<<"$out"
run hi_IN.UTF-8 FLUENZR_KEY_FILE="$T/none.key" -- store check
check "... and in Hindi" grep -qF "कुंजी फ़ाइल $T/none.key नहीं मिली" <<<"$out"
run fr_FR.UTF-8 -- store status
check "store status in French: its labels" grep -qxF "fichier de clé :  $KEYFILE" <<<"$out"
run hi_IN.UTF-8 -- store check
check "store check in Hindi: the count's plural form" grep -qxF "सभी रिकॉर्ड खुलते हैं और सत्यापित होते हैं (1 खाता)" <<<"$out"

# A bad preset file: skipped with the validator's reason in the reader's
# language; the file's own words (starttls, tls, ssl) stay.
mkdir -p "$T/presets"
printf 'id = bad\nname = Bad\nsmtp = smtp.bad.example 587 plain\n' >"$T/presets/bad.preset"
run fr_FR.UTF-8 FLUENZR_PRESET_DIR="$T/presets" -- presets
check "a bad preset file in French" grep -qF "$T/presets/bad.preset : ligne 3 : la sécurité doit être starttls, tls ou ssl ; ignoré" <<<"$out"
run hi_IN.UTF-8 FLUENZR_PRESET_DIR="$T/presets" -- presets
check "... and in Hindi" grep -qF "$T/presets/bad.preset: पंक्ति 3: सुरक्षा starttls, tls या ssl होनी चाहिए; छोड़ा गया" <<<"$out"
FLUENZR_PRESET_DIR="$T/presets" json_same presets --json
run fr_FR.UTF-8 FLUENZR_PRESET_DIR="$T/presets" -- presets --json
check "... in English beside --json" grep -qF "line 3: the security must be starttls, tls or ssl" <<<"$out"

# The health's reason is only in --json: English there in every language.
json_same account list --json
check "account list --json: the health's reason in English" grep -qE '"why": ?"the last results passed"' "$T/en.json"
json_same account show "$MAILSTACK_BOB_USER" --json
check "account show --json: the health's reason in English" grep -qF '"why": "the last results passed"' "$T/en.json"
# OAuth errors: a redirect not from this sign-in (oauth_code.c), a token
# endpoint nobody listens on (http.c); the error codes stay as they are.
"$FLUENZR" account add --email oauth@example.test --smtp-host 127.0.0.1 --sign-in oauth \
	--oauth-client-id c --oauth-token-url https://127.0.0.1:9/token \
	--oauth-device-url https://127.0.0.1:9/device --oauth-auth-url https://127.0.0.1:9/auth \
	>/dev/null 2>"$T/oadd.err" || fail "account add (oauth): $(cat "$T/oadd.err")"
paste_url='http://127.0.0.1:8765/?state=not-ours&code=x'
out=$(LANG=fr_FR.UTF-8 "$FLUENZR" account authorize oauth@example.test --flow paste <<<"$paste_url" 2>&1)
check "an OAuth error in French" grep -qF "state_mismatch: la redirection n'est pas la réponse à cette connexion (state diffère)" <<<"$out"
out=$(LANG=hi_IN.UTF-8 "$FLUENZR" account authorize oauth@example.test --flow paste <<<"$paste_url" 2>&1)
check "an OAuth error in Hindi" grep -qF "state_mismatch: रीडायरेक्ट इस साइन-इन का उत्तर नहीं है (state अलग है)" <<<"$out"
run fr_FR.UTF-8 -- account authorize oauth@example.test --flow device
check "an HTTP reason in French" grep -qF "connect: la connexion a été refusée ou l'hôte est injoignable" <<<"$out"
run hi_IN.UTF-8 -- account authorize oauth@example.test --flow device
check "an HTTP reason in Hindi" grep -qF "connect: कनेक्शन अस्वीकार हुआ या होस्ट तक पहुँचा नहीं जा सकता" <<<"$out"
run fr_FR.UTF-8 -- account authorize nobody@example.test
check "no such account, in French" grep -qF "aucun compte nobody@example.test" <<<"$out"
# domain's checks of its options, before any DNS
run fr_FR.UTF-8 -- domain example.org --sender-ip not-an-address
check "a bad option of domain, in French" \
	eval 'grep -qF "l'"'"'expéditeur n'"'"'est pas une adresse IPv4 ou IPv6" <<<"$out" && [ $rc = 65 ]'
run hi_IN.UTF-8 -- domain example.org --selector 'bad selector'
check "... and in Hindi, named as an option" \
	eval 'grep -qF "DKIM सेलेक्टर अक्षरों" <<<"$out" && grep -qF "option" <<<"$out"'
finish
