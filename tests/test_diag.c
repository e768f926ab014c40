/* Unit test of the troubleshooting knowledge base: every rule of the table
 * is hit by at least one case of evidence (the test fails when a rule has
 * none), real servers' words land where they should, and the fixes name
 * what the evidence, the account and the preset tell. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "diag.h"
#include "unit.h"

/* Evidence flags, short for the table below. */
enum {
	T_TIMEOUT = 1 << 0, T_CANCELLED = 1 << 1, T_HS = 1 << 2,
	T_PLAIN = 1 << 3, T_TLS = 1 << 4, T_NOAUTH = 1 << 5,
	T_INTERNAL = 1 << 7, T_OLDTLS = 1 << 8,
	T_CAFILE = 1 << 9,
	T_OFFER_TLS = 1 << 10,    /* the EHLO offered STARTTLS */
	T_TLS_ON = 1 << 11,       /* the dialogue was encrypted */
	T_AUTH_OK = 1 << 12,      /* the login succeeded */
};

struct tcase {
	const char *rule;         /* the rule that must decide */
	enum diag_cat cat;
	const char *reason;
	bool imap;
	int stage;
	int err;
	int gai;
	unsigned flags;
	enum cert_problem cert;
	int code;
	const char *reply;
	const char *imap_code;
	unsigned port;            /* 0: 587 (SMTP) or 993 (IMAP) */
	enum security sec;        /* with port 0: starttls / ssl */
	const char *hint;         /* a preset hint line's value, or NULL */
};

#define SMTP(st) .stage = STAGE_##st
#define IMAP(st) .imap = true, .stage = STAGE_##st

static const struct tcase cases[] = {
	{ "cancelled", DIAG_CANCELLED, "user", SMTP(AUTH), .flags = T_CANCELLED,
	  .code = 535, .reply = "5.7.8 Error: authentication failed" },
	{ "internal", DIAG_INTERNAL_ERROR, "bug", SMTP(MAIL), .flags = T_INTERNAL },

	{ "ca_file_refused", DIAG_INVALID_CERTIFICATE, "ca_file_refused",
	  SMTP(CERT), .flags = T_CAFILE },
	{ "ca_file_refused", DIAG_INVALID_CERTIFICATE, "ca_file_refused",
	  IMAP(CERT), .flags = T_CAFILE },
	{ "cert_pin_mismatch", DIAG_INVALID_CERTIFICATE, "pin_mismatch",
	  SMTP(CERT), .cert = CERT_PIN_MISMATCH },
	{ "cert_expired", DIAG_INVALID_CERTIFICATE, "expired", SMTP(CERT),
	  .cert = CERT_EXPIRED },
	{ "cert_not_yet_valid", DIAG_INVALID_CERTIFICATE, "not_yet_valid",
	  IMAP(CERT), .cert = CERT_NOT_YET_VALID },
	{ "cert_hostname_mismatch", DIAG_INVALID_CERTIFICATE, "hostname_mismatch",
	  SMTP(TLS), .cert = CERT_HOSTNAME_MISMATCH },
	{ "cert_self_signed", DIAG_INVALID_CERTIFICATE, "self_signed",
	  SMTP(CERT), .cert = CERT_SELF_SIGNED },
	{ "cert_untrusted", DIAG_INVALID_CERTIFICATE, "untrusted", SMTP(CERT),
	  .cert = CERT_UNTRUSTED },

	{ "dns_no_such_host", DIAG_DNS_FAILURE, "no_such_host", SMTP(RESOLVE),
	  .gai = EAI_NONAME },
	{ "dns_no_address", DIAG_DNS_FAILURE, "no_address", SMTP(RESOLVE),
	  .gai = EAI_NODATA },
	{ "dns_resolver_unavailable", DIAG_DNS_FAILURE, "resolver_unavailable",
	  IMAP(RESOLVE), .gai = EAI_AGAIN },
	{ "dns_resolver_timeout", DIAG_DNS_FAILURE, "resolver_unavailable",
	  SMTP(RESOLVE), .flags = T_TIMEOUT },
	{ "dns_resolver_failure", DIAG_DNS_FAILURE, "resolver_failure",
	  SMTP(RESOLVE), .gai = EAI_FAIL },
	{ "dns_other", DIAG_DNS_FAILURE, "resolve_failed", SMTP(RESOLVE),
	  .gai = EAI_SYSTEM, .err = EIO },

	{ "connect_refused", DIAG_CONNECTION_REFUSED, "refused", SMTP(CONNECT),
	  .err = ECONNREFUSED },
	{ "connect_timeout", DIAG_TIMEOUT, "no_answer", SMTP(CONNECT),
	  .err = ETIMEDOUT },
	{ "connect_timeout", DIAG_TIMEOUT, "no_answer", IMAP(CONNECT),
	  .flags = T_TIMEOUT },
	{ "connect_host_unreachable", DIAG_CONNECTION_REFUSED, "unreachable",
	  SMTP(CONNECT), .err = EHOSTUNREACH },
	{ "connect_network_unreachable", DIAG_CONNECTION_REFUSED,
	  "network_unreachable", SMTP(CONNECT), .err = ENETUNREACH },
	{ "connect_blocked_locally", DIAG_CONNECTION_REFUSED, "blocked_locally",
	  SMTP(CONNECT), .err = EACCES },
	{ "connect_other", DIAG_CONNECTION_REFUSED, "connect_failed",
	  SMTP(CONNECT), .err = ECONNRESET },

	{ "tls_old_version", DIAG_TLS_MISMATCH, "old_tls_only", SMTP(TLS),
	  .flags = T_HS | T_OLDTLS, .port = 465, .sec = SEC_SSL },
	{ "tls_old_version", DIAG_TLS_MISMATCH, "old_tls_only", SMTP(TLS),
	  .flags = T_HS | T_OLDTLS, .port = 587, .sec = SEC_STARTTLS },
	{ "tls_old_version", DIAG_TLS_MISMATCH, "old_tls_only", IMAP(TLS),
	  .flags = T_HS | T_OLDTLS, .port = 993, .sec = SEC_SSL },
	{ "tls_server_speaks_plain", DIAG_TLS_MISMATCH, "server_speaks_plain",
	  SMTP(TLS), .flags = T_PLAIN | T_HS, .code = 220,
	  .reply = "mail.example.com ESMTP Postfix", .port = 587, .sec = SEC_SSL },
	{ "tls_server_speaks_tls", DIAG_TLS_MISMATCH, "server_speaks_tls",
	  SMTP(GREETING), .flags = T_TLS, .port = 2465, .sec = SEC_STARTTLS },
	{ "tls_plain_to_tls_port", DIAG_TLS_MISMATCH, "plain_to_tls_port",
	  SMTP(GREETING), .flags = T_TIMEOUT, .err = ETIMEDOUT, .port = 465,
	  .sec = SEC_STARTTLS },
	{ "tls_plain_to_tls_port", DIAG_TLS_MISMATCH, "plain_to_tls_port",
	  IMAP(GREETING), .port = 993, .sec = SEC_NONE },
	{ "tls_implicit_failed", DIAG_TLS_MISMATCH, "handshake_failed",
	  SMTP(TLS), .flags = T_HS, .port = 2525, .sec = SEC_SSL },

	{ "timeout_greeting", DIAG_TIMEOUT, "no_greeting", SMTP(GREETING),
	  .flags = T_TIMEOUT },
	{ "timeout_greeting", DIAG_TIMEOUT, "no_greeting", SMTP(GREETING),
	  .flags = T_TIMEOUT, .port = 465, .sec = SEC_SSL },
	{ "timeout_handshake", DIAG_TIMEOUT, "handshake", SMTP(TLS),
	  .flags = T_TIMEOUT, .port = 465, .sec = SEC_SSL },
	{ "timeout_reply", DIAG_TIMEOUT, "no_reply", SMTP(DATA),
	  .flags = T_TIMEOUT, .code = 250, .reply = "2.1.5 Ok" },
	{ "tls_starttls_failed", DIAG_PROTOCOL_ERROR, "tls_handshake_failed",
	  SMTP(TLS), .flags = T_HS },

	{ "rcpt_mailbox_full_esc", DIAG_RECIPIENT_REJECTED, "mailbox_full",
	  SMTP(RCPT), .code = 452,
	  .reply = "4.2.2 The email account that you tried to reach is over quota" },
	{ "rcpt_mailbox_full_words", DIAG_RECIPIENT_REJECTED, "mailbox_full",
	  SMTP(RCPT), .code = 552,
	  .reply = "Requested mail action aborted: mailbox full" },

	{ "rate_connections", DIAG_RATE_LIMITED, "connections", SMTP(GREETING),
	  .code = 421,
	  .reply = "4.7.0 mail.test Error: too many connections from 127.0.0.1" },
	{ "rate_connections", DIAG_RATE_LIMITED, "connections", IMAP(IMAP_LOGIN),
	  .imap_code = "LIMIT",
	  .reply = "NO [LIMIT] Maximum number of connections from user+IP "
	           "exceeded (mail_max_userip_connections=10)" },
	{ "rate_recipients", DIAG_RATE_LIMITED, "recipients", SMTP(RCPT),
	  .code = 452, .reply = "4.5.3 Too many recipients" },
	{ "rate_recipients_esc", DIAG_RATE_LIMITED, "recipients", SMTP(RCPT),
	  .code = 552, .reply = "5.5.3 Error: max recipients exceeded" },
	{ "rate_login_attempts", DIAG_RATE_LIMITED, "login_attempts", SMTP(AUTH),
	  .code = 454,
	  .reply = "4.7.0 Too many login attempts, please try again later." },
	/* Microsoft's recipients-per-day limit (its SMTP AUTH limits page):
	 * a daily limit, no longer the vaguer "quota". */
	{ "rate_daily", DIAG_RATE_LIMITED, "daily_limit", SMTP(DATA), .code = 554,
	  .reply = "5.2.0 STOREDRV.Submission.Exception:"
	           "SubmissionQuotaExceededException; Failed to process message" },
	{ "rate_quota", DIAG_RATE_LIMITED, "quota", SMTP(DATA), .code = 554,
	  .reply = "5.7.0 Sending quota exceeded" },
	{ "rate_daily_esc", DIAG_RATE_LIMITED, "daily_limit", SMTP(MAIL),
	  .code = 550, .reply = "5.4.5 Sending limit exceeded" },
	{ "rate_credits", DIAG_RATE_LIMITED, "credits", SMTP(AUTH), .code = 451,
	  .reply = "Authentication failed: Maximum credits exceeded" },
	{ "rate_volume", DIAG_RATE_LIMITED, "volume", SMTP(MAIL), .code = 421,
	  .reply = "4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred "
	           "due to unexpected volume or user complaints" },
	/* Exim's ratelimit ACL, no enhanced code, any stage. */
	{ "rate_messages", DIAG_RATE_LIMITED, "messages", SMTP(RCPT), .code = 450,
	  .reply = "Sender rate exceeds 100.0 messages per 1h" },
	{ "rate_limit_words", DIAG_RATE_LIMITED, "messages", SMTP(DATA), .code = 550,
	  .reply = "Your account has reached its limit for outgoing mail" },
	/* A limit at the greeting counts connections: nothing was sent yet. */
	{ "rate_at_greeting", DIAG_RATE_LIMITED, "connections", SMTP(GREETING),
	  .code = 451, .reply = "The server has reached its limit for processing "
	                        "requests from your host.\nPlease try again later." },
	{ "rate_messages", DIAG_RATE_LIMITED, "messages", SMTP(MAIL), .code = 450,
	  .reply = "4.7.1 Error: too much mail from 127.0.0.1" },
	{ "rate_try_later", DIAG_RATE_LIMITED, "deferred", SMTP(MAIL),
	  .code = 451, .reply = "4.7.1 Please try again later" },
	{ "rate_try_later", DIAG_RATE_LIMITED, "deferred", SMTP(RCPT),
	  .code = 451, .reply = "451 4.7.1 Please try again later" },
	{ "rate_imap_limit", DIAG_RATE_LIMITED, "limit", IMAP(IMAP_LOGIN),
	  .imap_code = "LIMIT", .reply = "NO [LIMIT] Try later" },
	{ "rate_too_many", DIAG_RATE_LIMITED, "too_many", SMTP(RCPT),
	  .code = 450, .reply = "4.7.1 Too many errors from your host" },

	{ "starttls_temporary", DIAG_STARTTLS_UNAVAILABLE, "temporary",
	  SMTP(STARTTLS), .code = 454,
	  .reply = "4.7.0 TLS not available due to local problem" },
	{ "starttls_not_supported", DIAG_STARTTLS_UNAVAILABLE, "not_supported",
	  SMTP(STARTTLS), .code = 502, .reply = "5.5.1 Error: command not implemented" },
	{ "starttls_injected", DIAG_PROTOCOL_ERROR, "data_after_starttls",
	  SMTP(STARTTLS), .reply = "clear-text data after the STARTTLS reply" },
	{ "starttls_injected", DIAG_PROTOCOL_ERROR, "data_after_starttls",
	  IMAP(STARTTLS), .reply = "clear-text data after the STARTTLS reply",
	  .port = 143, .sec = SEC_STARTTLS },
	{ "starttls_garbled", DIAG_PROTOCOL_ERROR, "unparseable_reply",
	  SMTP(STARTTLS), .reply = "HTTP/1.0 200 OK" },
	{ "starttls_not_offered", DIAG_STARTTLS_UNAVAILABLE, "not_offered",
	  SMTP(STARTTLS), .code = 250,
	  .reply = "mail.example.com\nPIPELINING\nSIZE 10240000" },
	{ "starttls_not_offered", DIAG_STARTTLS_UNAVAILABLE, "not_offered",
	  IMAP(STARTTLS), .port = 143, .sec = SEC_STARTTLS },

	{ "auth_app_password", DIAG_AUTH_FAILED, "app_password_required",
	  SMTP(AUTH), .code = 534,
	  .reply = "5.7.9 Application-specific password required. Learn more at "
	           "https://support.google.com/mail/?p=InvalidSecondFactor" },
	{ "auth_app_password", DIAG_AUTH_FAILED, "app_password_required",
	  SMTP(AUTH), .code = 535,
	  .reply = "5.7.9 Application-specific password required" },
	{ "auth_app_password", DIAG_AUTH_FAILED, "app_password_required",
	  IMAP(IMAP_LOGIN), .imap_code = "ALERT",
	  .reply = "NO [ALERT] Application-specific password required" },
	{ "auth_web_login", DIAG_AUTH_FAILED, "web_login_required", SMTP(AUTH),
	  .code = 534, .reply = "5.7.14 <https://accounts.google.com/signin> "
	                        "Please log in via your web browser and then try again." },
	{ "auth_imap_webalert", DIAG_AUTH_FAILED, "web_login_required",
	  IMAP(IMAP_LOGIN), .imap_code = "WEBALERT https://accounts.google.com/x",
	  .reply = "NO [WEBALERT https://accounts.google.com/x] Web login required." },
	{ "enc_starttls_first", DIAG_ENCRYPTION_REQUIRED, "starttls_first",
	  SMTP(MAIL), .code = 530, .reply = "5.7.0 Must issue a STARTTLS command first" },
	{ "enc_538", DIAG_ENCRYPTION_REQUIRED, "encryption_required", SMTP(AUTH),
	  .code = 538,
	  .reply = "5.7.11 Encryption required for requested authentication mechanism" },
	{ "enc_esc_5_7_11", DIAG_ENCRYPTION_REQUIRED, "encryption_required",
	  SMTP(MAIL), .code = 550, .reply = "5.7.11 TLS is mandatory here" },
	{ "enc_imap_privacy", DIAG_ENCRYPTION_REQUIRED, "privacy_required",
	  IMAP(IMAP_LOGIN), .imap_code = "PRIVACYREQUIRED",
	  .reply = "NO [PRIVACYREQUIRED] Plaintext authentication disallowed on "
	           "non-secure (SSL/TLS) connections.", .port = 143, .sec = SEC_NONE },
	{ "enc_words", DIAG_ENCRYPTION_REQUIRED, "plaintext_disallowed",
	  IMAP(IMAP_LOGIN), .imap_code = "ALERT",
	  .reply = "BAD [ALERT] Plaintext authentication not allowed without SSL/TLS",
	  .port = 143, .sec = SEC_NONE },
	/* No AUTH in clear, STARTTLS offered, an account set to none: not "no
	 * login method" but encryption first. */
	{ "enc_auth_after_tls", DIAG_ENCRYPTION_REQUIRED, "auth_after_tls",
	  SMTP(AUTH), .flags = T_NOAUTH | T_OFFER_TLS, .code = 503,
	  .reply = "5.5.1 Error: authentication not enabled", .port = 587,
	  .sec = SEC_NONE },
	{ "auth_web_login_words", DIAG_AUTH_FAILED, "web_login_required",
	  SMTP(AUTH), .code = 534,
	  .reply = "5.7.9 Please log in with your web browser and then try again" },
	{ "auth_smtp_disabled_esc", DIAG_AUTH_FAILED, "smtp_auth_disabled",
	  SMTP(AUTH), .code = 535, .flags = T_TLS_ON,
	  .reply = "5.7.139 Authentication unsuccessful, the request did not meet "
	           "the criteria to be authenticated successfully" },
	{ "auth_smtp_disabled_words", DIAG_AUTH_FAILED, "smtp_auth_disabled",
	  SMTP(AUTH), .code = 535, .flags = T_TLS_ON,
	  .reply = "Authentication unsuccessful, SmtpClientAuthentication is "
	           "disabled for the Tenant" },
	{ "login_account_disabled", DIAG_AUTH_FAILED, "account_disabled",
	  SMTP(AUTH), .code = 535, .flags = T_TLS_ON,
	  .reply = "5.7.8 Your account has been suspended" },
	{ "imap_post_login_rejected", DIAG_AUTH_FAILED, "post_login_rejected",
	  IMAP(IMAP_SELECT), .flags = T_AUTH_OK | T_TLS_ON,
	  .reply = "User is authenticated but not connected." },
	{ "preset_hint", DIAG_AUTH_FAILED, "smtp_auth_disabled", SMTP(AUTH),
	  .code = 535, .flags = T_TLS_ON,
	  .reply = "5.7.139 Authentication unsuccessful, basic authentication is "
	           "disabled.",
	  .hint = "auth 535 5.7.139 | basic authentication is disabled; "
	          "SmtpClientAuthentication | auth_failed/smtp_auth_disabled | "
	          "An administrator must enable SMTP AUTH for the mailbox." },
	{ "auth_not_offered", DIAG_AUTH_UNSUPPORTED, "not_offered", SMTP(AUTH),
	  .flags = T_NOAUTH, .code = 250, .reply = "mail.example.com\nPIPELINING" },
	{ "auth_too_weak", DIAG_AUTH_UNSUPPORTED, "mechanism_too_weak",
	  SMTP(AUTH), .code = 534, .reply = "5.7.9 Authentication mechanism is too weak" },
	{ "auth_mechanism_504", DIAG_AUTH_UNSUPPORTED, "mechanism_not_supported",
	  SMTP(AUTH), .code = 504, .reply = "5.5.4 Unrecognized authentication type" },
	{ "auth_mechanism_words", DIAG_AUTH_UNSUPPORTED, "mechanism_not_supported",
	  IMAP(IMAP_LOGIN), .reply = "NO Unsupported authentication mechanism." },
	{ "auth_required_530", DIAG_AUTH_FAILED, "auth_required", SMTP(MAIL),
	  .code = 530, .reply = "5.7.0 Authentication required" },
	{ "auth_bad_535", DIAG_AUTH_FAILED, "bad_credentials", SMTP(AUTH),
	  .code = 535, .reply = "5.7.8 Error: authentication failed: authentication failure" },
	{ "auth_bad_esc", DIAG_AUTH_FAILED, "bad_credentials", SMTP(AUTH),
	  .code = 554, .reply = "5.7.8 Authentication credentials invalid" },
	{ "auth_imap_failed", DIAG_AUTH_FAILED, "bad_credentials", IMAP(IMAP_LOGIN),
	  .imap_code = "AUTHENTICATIONFAILED",
	  .reply = "NO [AUTHENTICATIONFAILED] Authentication failed." },
	{ "auth_imap_failed", DIAG_AUTH_FAILED, "bad_credentials", IMAP(IMAP_LOGIN),
	  .imap_code = "[authenticationfailed]", .reply = "NO wrong" },
	{ "auth_imap_authorization", DIAG_AUTH_FAILED, "not_authorized",
	  IMAP(IMAP_LOGIN), .imap_code = "AUTHORIZATIONFAILED",
	  .reply = "NO [AUTHORIZATIONFAILED] No such authorization-ID" },
	{ "auth_imap_expired", DIAG_AUTH_FAILED, "password_expired",
	  IMAP(IMAP_LOGIN), .imap_code = "EXPIRED",
	  .reply = "NO [EXPIRED] That password has expired" },
	{ "auth_imap_contactadmin", DIAG_AUTH_FAILED, "account_disabled",
	  IMAP(IMAP_LOGIN), .imap_code = "CONTACTADMIN",
	  .reply = "NO [CONTACTADMIN] Contact your administrator" },
	{ "imap_unavailable", DIAG_SERVER_UNAVAILABLE, "temporary",
	  IMAP(IMAP_LOGIN), .imap_code = "UNAVAILABLE",
	  .reply = "NO [UNAVAILABLE] Temporary authentication failure." },
	{ "auth_temporary", DIAG_SERVER_UNAVAILABLE, "temporary_auth_failure",
	  SMTP(AUTH), .code = 454, .reply = "4.7.0 Temporary authentication failure" },
	{ "auth_words", DIAG_AUTH_FAILED, "bad_credentials", IMAP(IMAP_LOGIN),
	  .reply = "NO Invalid credentials" },

	{ "helo_rejected", DIAG_PROTOCOL_ERROR, "ehlo_rejected", SMTP(RCPT),
	  .code = 504, .reply = "5.5.2 <vm>: Helo command rejected: need "
	                        "fully-qualified hostname" },
	{ "sender_send_as_esc", DIAG_SENDER_REJECTED, "send_as_denied",
	  SMTP(MAIL), .code = 550,
	  .reply = "5.7.60 SMTP; Client does not have permissions to send as this sender" },
	{ "sender_send_as_words", DIAG_SENDER_REJECTED, "send_as_denied",
	  SMTP(DATA), .code = 554,
	  .reply = "5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException."
	           "MapiExceptionSendAsDenied; Failed to process message" },
	{ "sender_not_owned", DIAG_SENDER_REJECTED, "not_owned", SMTP(RCPT),
	  .code = 553, .reply = "5.7.1 <bob@example.com>: Sender address rejected: "
	                        "not owned by user bob" },
	{ "sender_not_owned", DIAG_SENDER_REJECTED, "not_owned", SMTP(MAIL),
	  .code = 550, .reply = "5.7.1 Sender address rejected: not owned by user bob" },
	{ "client_blocked", DIAG_SERVER_UNAVAILABLE, "client_blocked", SMTP(RCPT),
	  .code = 554, .reply = "5.7.1 Service unavailable; Client host [203.0.113.5] "
	                        "blocked using zen.spamhaus.org" },
	{ "sender_mail_553", DIAG_SENDER_REJECTED, "address_not_allowed",
	  SMTP(MAIL), .code = 553, .reply = "5.1.8 Domain of sender address does not exist" },
	{ "sender_mail_syntax", DIAG_SENDER_REJECTED, "bad_address", SMTP(MAIL),
	  .code = 501, .reply = "5.1.7 Bad sender address syntax" },
	{ "rcpt_relay_denied", DIAG_RECIPIENT_REJECTED, "relay_denied",
	  SMTP(RCPT), .code = 554, .reply = "5.7.1 <x@other.test>: Relay access denied" },
	{ "rcpt_unknown_esc", DIAG_RECIPIENT_REJECTED, "unknown_user", SMTP(RCPT),
	  .code = 550, .reply = "5.1.1 <bob@example.com>: Recipient address rejected: "
	                        "User unknown in virtual mailbox table" },
	{ "rcpt_unknown_words", DIAG_RECIPIENT_REJECTED, "unknown_user",
	  SMTP(RCPT), .code = 550, .reply = "Requested action not taken: mailbox unavailable" },
	{ "rcpt_bad_address_esc", DIAG_RECIPIENT_REJECTED, "bad_address",
	  SMTP(RCPT), .code = 501, .reply = "5.1.3 Bad recipient address syntax" },
	{ "data_rejected", DIAG_SENDER_REJECTED, "message_rejected", SMTP(DATA),
	  .code = 554, .reply = "5.7.1 Message rejected as spam" },

	{ "greeting_421", DIAG_SERVER_UNAVAILABLE, "closing", SMTP(GREETING),
	  .code = 421, .reply = "4.3.2 Service not available, closing transmission channel" },
	{ "greeting_554", DIAG_SERVER_UNAVAILABLE, "no_service", SMTP(GREETING),
	  .code = 554, .reply = "5.3.2 No SMTP service here" },
	{ "greeting_5xx", DIAG_SERVER_UNAVAILABLE, "no_service", SMTP(GREETING),
	  .code = 550, .reply = "go away" },
	/* 421 at DATA that states a permanent account restriction. */
	{ "sender_account_blocked", DIAG_SENDER_REJECTED, "account_blocked",
	  SMTP(DATA), .code = 421,
	  .reply = "4.7.0 Your account has been suspended for sending" },
	{ "sender_unverified", DIAG_SENDER_REJECTED, "unverified_sender",
	  SMTP(DATA), .code = 554,
	  .reply = "Message rejected: Email address is not verified. The "
	           "following identities failed the check in region US-EAST-1: "
	           "alice@example.com" },
	{ "sender_not_owned", DIAG_SENDER_REJECTED, "not_owned", SMTP(DATA),
	  .code = 554, .reply = "5.0.0 Error: The account is not available in "
	  "Bridge. Verify the outgoing server settings in your mail client and "
	  "try again" },
	{ "sender_530_after_auth", DIAG_SENDER_REJECTED, "not_owned", SMTP(MAIL),
	  .flags = T_AUTH_OK | T_TLS_ON, .code = 530,
	  .reply = "5.7.0 Authentication required" },
	{ "imap_bye", DIAG_SERVER_UNAVAILABLE, "closing", IMAP(GREETING),
	  .reply = "* BYE Server shutting down" },
	{ "any_421", DIAG_SERVER_UNAVAILABLE, "closing", SMTP(MAIL), .code = 421,
	  .reply = "4.4.2 mail.example.com Error: timeout exceeded" },
	/* Postgrey's reply was "temporary" before greylisting had a rule. */
	{ "greylisted", DIAG_SERVER_UNAVAILABLE, "greylisted", SMTP(RCPT),
	  .code = 450,
	  .reply = "4.2.0 <bob@example.com>: Recipient address rejected: "
	           "Greylisted, see http://postgrey.schweikert.ch/" },
	{ "any_4xx", DIAG_SERVER_UNAVAILABLE, "temporary", SMTP(RCPT), .code = 450,
	  .reply = "4.3.0 <bob@example.com>: Temporary lookup failure" },
	{ "bad_reply_code", DIAG_PROTOCOL_ERROR, "bad_reply", SMTP(EHLO),
	  .code = 999, .reply = "what" },
	{ "unparseable_reply", DIAG_PROTOCOL_ERROR, "unparseable_reply",
	  SMTP(GREETING), .reply = "HTTP/1.1 400 Bad Request" },
	{ "ehlo_rejected", DIAG_PROTOCOL_ERROR, "ehlo_rejected", SMTP(EHLO),
	  .code = 501, .reply = "5.5.2 Syntax: EHLO hostname" },
	{ "reply_without_end", DIAG_PROTOCOL_ERROR, "reply_without_end",
	  IMAP(IMAP_LOGIN), .err = EMSGSIZE },
	{ "connection_closed", DIAG_SERVER_UNAVAILABLE, "connection_closed",
	  SMTP(AUTH), .err = ECONNRESET },
	{ "greeting_other", DIAG_PROTOCOL_ERROR, "unexpected_greeting",
	  SMTP(GREETING), .code = 300, .reply = "hello?" },
	{ "ehlo_other", DIAG_PROTOCOL_ERROR, "ehlo_failed", SMTP(EHLO),
	  .code = 354, .reply = "go ahead" },
	{ "cert_other", DIAG_INVALID_CERTIFICATE, "untrusted", SMTP(CERT) },
	{ "login_other", DIAG_AUTH_FAILED, "rejected", SMTP(AUTH), .code = 550,
	  .reply = "5.7.1 Access denied" },
	{ "mail_other", DIAG_SENDER_REJECTED, "rejected", SMTP(MAIL), .code = 550,
	  .reply = "5.7.80 unusual" },
	{ "rcpt_other", DIAG_RECIPIENT_REJECTED, "rejected", SMTP(RCPT),
	  .code = 550, .reply = "5.7.1 <bob@example.com>: Recipient address rejected: "
	                        "Access denied" },
	{ "data_other", DIAG_PROTOCOL_ERROR, "data_failed", SMTP(DATA),
	  .code = 250, .reply = "2.0.0 Ok" },
	{ "quit_other", DIAG_PROTOCOL_ERROR, "quit_failed", SMTP(QUIT),
	  .code = 500, .reply = "5.5.2 Error: bad syntax" },
	{ "imap_select_other", DIAG_PROTOCOL_ERROR, "select_failed",
	  IMAP(IMAP_SELECT), .imap_code = "NONEXISTENT",
	  .reply = "NO [NONEXISTENT] Mailbox doesn't exist: INBOX" },
	{ "imap_search_other", DIAG_PROTOCOL_ERROR, "search_failed",
	  IMAP(IMAP_SEARCH), .reply = "BAD Error in IMAP command SEARCH" },
	{ "no_stage", DIAG_INTERNAL_ERROR, "no_stage", .stage = STAGE_NONE,
	  .reply = "x" },
	{ "unclassified", DIAG_INTERNAL_ERROR, "unclassified", .stage = 99 },
};

#define NCASES (sizeof cases / sizeof cases[0])

static void
test_account(struct account *a)
{
	memset(a, 0, sizeof *a);
	strcpy(a->email, "bob@example.com");
	strcpy(a->username, "bob");
	strcpy(a->smtp_host, "mail.example.com");
	a->smtp_port = 587;
	a->smtp_security = SEC_STARTTLS;
	strcpy(a->imap_host, "imap.example.com");
	a->imap_port = 993;
	a->imap_security = SEC_SSL;
}

/* The diagnosis of ev, a and p with nothing found besides; out is filled
 * with garbage first: the diagnosis writes all of it. */
static const char *
classify_rule(const struct diag_evidence *ev, const struct account *a,
              const struct preset *p, struct diagnosis *d)
{
	struct diag_input in;

	diag_input_init(&in, ev, a, p);
	memset(d, 0x5a, sizeof *d);
	return diag_classify_rule(&in, d);
}

static void
classify(const struct diag_evidence *ev, const struct account *a,
         const struct preset *p, struct diagnosis *d)
{
	(void)classify_rule(ev, a, p, d);
}

static void
evidence_from(const struct tcase *t, struct diag_evidence *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->imap = t->imap;
	ev->stage = (enum diag_stage)t->stage;
	ev->sys_errno = t->err;
	ev->gai_error = t->gai;
	ev->timed_out = t->flags & T_TIMEOUT;
	ev->cancelled = t->flags & T_CANCELLED;
	ev->tls_handshake_failed = t->flags & T_HS;
	ev->peer_spoke_plain = t->flags & T_PLAIN;
	ev->peer_spoke_tls = t->flags & T_TLS;
	ev->auth_not_offered = t->flags & T_NOAUTH;
	ev->internal = t->flags & T_INTERNAL;
	ev->tls_version_refused = t->flags & T_OLDTLS;
	ev->offered_starttls = t->flags & T_OFFER_TLS;
	ev->tls_on = t->flags & T_TLS_ON;
	ev->auth_ok = t->flags & T_AUTH_OK;
	if (t->flags & T_CAFILE)
		snprintf(ev->ca_file_why, sizeof ev->ca_file_why,
		         "CA file /tmp/ca.pem: it is a FIFO, not a regular file");
	ev->cert = t->cert;
	ev->reply_code = t->code;
	if (t->reply)
		snprintf(ev->reply, sizeof ev->reply, "%s", t->reply);
	if (t->imap_code)
		snprintf(ev->imap_code, sizeof ev->imap_code, "%s", t->imap_code);
	strcpy(ev->host, t->imap ? "imap.example.com" : "mail.example.com");
	if (t->port) {
		ev->port = t->port;
		ev->security = t->sec;
	} else {
		ev->port = t->imap ? 993 : 587;
		ev->security = t->imap ? SEC_SSL : SEC_STARTTLS;
	}
}

/* Every fix is a non-empty, terminated sentence (DIAG_FIX_LEN leaves room
 * for a translation), no control. */
static bool
fixes_clean(const struct diagnosis *d, char *why, size_t whylen)
{
	size_t i, j, n;

	if (d->nfixes == 0 || d->nfixes > DIAG_MAX_FIXES) {
		snprintf(why, whylen, "%zu fixes", d->nfixes);
		return false;
	}
	for (i = 0; i < d->nfixes; i++) {
		n = strnlen(d->fixes[i], sizeof d->fixes[i]);
		if (n == 0 || n >= sizeof d->fixes[i]) {
			snprintf(why, whylen, "fix %zu has length %zu", i, n);
			return false;
		}
		for (j = 0; j < n; j++) {
			unsigned char ch = (unsigned char)d->fixes[i][j];
			if (ch < 0x20 || ch == 0x7f) {
				snprintf(why, whylen, "fix %zu has control 0x%02x",
				         i, ch);
				return false;
			}
		}
	}
	return true;
}

static bool
has_fix(const struct diagnosis *d, const char *needle)
{
	size_t i;

	for (i = 0; i < d->nfixes; i++)
		if (strstr(d->fixes[i], needle) != NULL)
			return true;
	return false;
}

/* A reply on one line of the log. */
static void
oneline(char *dst, size_t len, const char *src)
{
	size_t i;

	snprintf(dst, len, "%s", src ? src : "");
	for (i = 0; dst[i]; i++)
		if (dst[i] == '\n')
			dst[i] = '|';
}

static void
dump_fixes(const struct diagnosis *d)
{
	size_t i;

	for (i = 0; i < d->nfixes; i++)
		printf("    fix: %s\n", d->fixes[i]);
}

/* Each case hits its rule, with its category and reason; every rule has a
 * case; every category is reached; every failure has clean fixes. */
static void
test_rules(void)
{
	bool reached[DIAG_NCATS] = { false };
	struct diag_evidence ev;
	struct diagnosis d;
	struct account a;
	const char *rule;
	char why[128], shown[80];
	size_t i, j;

	test_account(&a);
	for (i = 0; i < NCASES; i++) {
		const struct tcase *t = &cases[i];
		bool found = false;

		for (j = 0; j < diag_rule_count(); j++)
			if (strcmp(diag_rule_name(j), t->rule) == 0)
				found = true;
		check(found, "case %zu names an existing rule %s", i, t->rule);
		evidence_from(t, &ev);
		if (t->hint) {
			static struct preset hp;
			char text[1024], err[256];

			snprintf(text, sizeof text, "name = Hinted\nsmtp = "
			         "mail.example.com 587 starttls\nhint = %s\n", t->hint);
			check(preset_parse(text, strlen(text), "hinted", &hp, err,
			                   sizeof err) == 0, "case %zu: the hint parses "
			      "(%s)", i, err);
			rule = classify_rule(&ev, &a, &hp, &d);
			check(strcmp(d.fixes[0], hp.hints[0].fix) == 0,
			      "case %zu: the hint's fix comes first", i);
		} else {
			rule = classify_rule(&ev, &a, NULL, &d);
		}
		oneline(shown, sizeof shown, t->reply);
		check(rule != NULL && strcmp(rule, t->rule) == 0 &&
		      d.cat == t->cat && strcmp(d.reason, t->reason) == 0,
		      "case %zu \"%s\" -> rule %s, %s/%s (want %s, %s/%s)", i,
		      shown, rule ? rule : "(null)",
		      diag_cat_name(d.cat), d.reason, t->rule,
		      diag_cat_name(t->cat), t->reason);
		reached[d.cat] = true;
		why[0] = '\0';
		check(fixes_clean(&d, why, sizeof why),
		      "case %zu (%s) has clean fixes %s", i, t->rule, why);
		check((strcmp(d.title, diag_cat_title(d.cat)) == 0 ||
		       (ev.imap && strcmp(d.reason, "connections") == 0 &&
		        strcmp(d.title, "Too many connections") == 0)) &&
		      d.stage == ev.stage,
		      "case %zu carries title \"%s\" and stage %s", i, d.title,
		      diag_stage_name(d.stage));
		check(strcmp(d.reply, ev.reply) == 0,
		      "case %zu keeps the server's reply", i);
	}
	for (j = 0; j < diag_rule_count(); j++) {
		bool found = false;

		for (i = 0; i < NCASES; i++)
			if (strcmp(diag_rule_name(j), cases[i].rule) == 0)
				found = true;
		check(found, "rule %zu %s has a test case", j, diag_rule_name(j));
		for (i = 0; i < j; i++)
			if (strcmp(diag_rule_name(i), diag_rule_name(j)) == 0)
				check(false, "rule name %s is unique",
				      diag_rule_name(j));
	}
	check(diag_rule_name(diag_rule_count()) == NULL,
	      "diag_rule_name past the end is NULL");

	/* The fixes of the two local refusals say what to do. */
	memset(&ev, 0, sizeof ev);
	ev.stage = STAGE_TLS;
	ev.tls_handshake_failed = ev.tls_version_refused = true;
	classify(&ev, &a, NULL, &d);
	check(has_fix(&d, "--allow-old-tls") && has_fix(&d, "RFC 8996") &&
	      has_fix(&d, a.email), "old TLS: the fixes name the option, the "
	      "risk and the account");
	memset(&ev, 0, sizeof ev);
	ev.stage = STAGE_CERT;
	snprintf(ev.ca_file_why, sizeof ev.ca_file_why, "CA file /x: it is a "
	         "FIFO, not a regular file");
	classify(&ev, &a, NULL, &d);
	check(has_fix(&d, "CA file /x: it is a FIFO") && has_fix(&d, "--ca-file"),
	      "CA file refused: the fixes quote why and how to stop using it");

	diag_ok(&d);
	reached[d.cat] = true;
	check(d.cat == DIAG_OK && d.nfixes == 0 && d.title[0] &&
	      diag_exit_code(d.cat) == 0, "diag_ok is ok, title \"%s\", exit 0",
	      d.title);
	for (i = 0; i < DIAG_NCATS; i++)
		check(reached[i], "category %s is reachable",
		      diag_cat_name((enum diag_cat)i));
}

/* The limits real servers announce, in their own words. */
static void
test_rate_limits(void)
{
	static const struct {
		int stage;
		int code;
		const char *reply;
	} texts[] = {
		{ STAGE_GREETING, 421, "4.7.0 mail.test Error: too many connections from 127.0.0.1" },
		{ STAGE_GREETING, 421, "421 4.7.0 mail.test Error: too many connections from 127.0.0.1" },
		{ STAGE_MAIL, 450, "4.7.1 Error: too much mail from 127.0.0.1" },
		{ STAGE_RCPT, 450, "4.7.1 <bob@example.com>: Error: too much mail from 127.0.0.1" },
		{ STAGE_MAIL, 451, "4.7.1 Please try again later" },
		{ STAGE_RCPT, 452, "4.5.3 Too many recipients" },
		{ STAGE_MAIL, 550, "5.4.5 Daily user sending limit exceeded" },
		{ STAGE_RCPT, 550, "5.4.5 Daily user sending limit exceeded" },
		{ STAGE_DATA, 550, "5.4.5 Daily user sending quota exceeded." },
		{ STAGE_DATA, 554, "5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException" },
		{ STAGE_MAIL, 550, "5.7.1 Too many messages sent today" },
		{ STAGE_MAIL, 451, "4.7.0 Rate limit reached, slow down" },
		{ STAGE_DATA, 554, "5.7.0 Sending quota exceeded" },
		{ STAGE_MAIL, 550, "5.7.1 Sending limit reached for this account" },
		{ STAGE_MAIL, 421, "4.7.0 Temporary System Problem. Try again later (ratelimited)" },
	};
	struct diag_evidence ev;
	struct diagnosis d;
	struct account a;
	const char *rule;
	size_t i;
	bool temp;

	test_account(&a);
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		memset(&ev, 0, sizeof ev);
		ev.stage = (enum diag_stage)texts[i].stage;
		ev.reply_code = texts[i].code;
		snprintf(ev.reply, sizeof ev.reply, "%s", texts[i].reply);
		strcpy(ev.host, "mail.example.com");
		ev.port = 587;
		rule = classify_rule(&ev, &a, NULL, &d);
		check(d.cat == DIAG_RATE_LIMITED, "%d at %s \"%s\" is rate_limited "
		      "(got %s by %s)", texts[i].code,
		      diag_stage_name(ev.stage), texts[i].reply,
		      diag_cat_name(d.cat), rule);
		temp = texts[i].code < 500;
		/* No quota to raise for a limit on connections (the old
		 * answer said so). */
		check(has_fix(&d, "Space out your sending") &&
		      has_fix(&d, "Check your provider's sending limits") &&
		      has_fix(&d, "increase the quota") ==
		      (strcmp(d.reason, "connections") != 0) &&
		      has_fix(&d, "retry later") == temp,
		      "%d: the page's limit fixes, retry later only when 4xx",
		      texts[i].code);
		check(diag_exit_code(d.cat) == EX_TEMPFAIL, "rate_limited exits 75");
	}
	/* A limit on IMAP sessions is not a sending limit: its own title, and
	 * none of the page's sending advice. */
	memset(&ev, 0, sizeof ev);
	ev.imap = true;
	ev.stage = STAGE_IMAP_LOGIN;
	snprintf(ev.reply, sizeof ev.reply, "NO [LIMIT] Maximum number of connections "
	         "from user+IP exceeded (mail_max_userip_connections=1)");
	strcpy(ev.host, "imap.example.com");
	ev.port = 993;
	rule = classify_rule(&ev, &a, NULL, &d);
	check(d.cat == DIAG_RATE_LIMITED && strcmp(d.reason, "connections") == 0 &&
	      strcmp(d.title, "Too many connections") == 0,
	      "an IMAP session limit: rate_limited/connections, titled as such (%s by %s)",
	      d.title, rule);
	check(has_fix(&d, "Close other mail programs") && has_fix(&d, "one IMAP connection") &&
	      !has_fix(&d, "Space out your sending") && !has_fix(&d, "sending limits") &&
	      !has_fix(&d, "increase the quota"),
	      "... and fixes about sessions, not sending");
}

static void
smtp_ev(struct diag_evidence *ev, enum diag_stage st, int code,
        const char *reply, unsigned port, enum security sec)
{
	memset(ev, 0, sizeof *ev);
	ev->stage = st;
	ev->reply_code = code;
	snprintf(ev->reply, sizeof ev->reply, "%s", reply);
	strcpy(ev->host, "mail.example.com");
	ev->port = port;
	ev->security = sec;
}

/* The words that must not be taken for a limit, and the reverse. */
static void
test_not_limits(void)
{
	struct diag_evidence ev;
	struct diagnosis d;

	smtp_ev(&ev, STAGE_GREETING, 421, "4.3.2 Service not available", 587,
	        SEC_STARTTLS);
	classify(&ev, NULL, NULL, &d);
	check(d.cat == DIAG_SERVER_UNAVAILABLE,
	      "greeting 421 Service not available is server_unavailable (%s)",
	      diag_cat_name(d.cat));
	smtp_ev(&ev, STAGE_GREETING, 421, "Service not available", 587,
	        SEC_STARTTLS);
	classify(&ev, NULL, NULL, &d);
	check(d.cat == DIAG_SERVER_UNAVAILABLE,
	      "greeting 421 without a code is server_unavailable (%s)",
	      diag_cat_name(d.cat));
	smtp_ev(&ev, STAGE_GREETING, 554, "mail.example.com", 587, SEC_STARTTLS);
	classify(&ev, NULL, NULL, &d);
	check(d.cat == DIAG_SERVER_UNAVAILABLE && diag_exit_code(d.cat) == 69,
	      "greeting 554 is server_unavailable, exit 69 (%s)",
	      diag_cat_name(d.cat));
	smtp_ev(&ev, STAGE_AUTH, 535,
	        "5.7.9 application-specific password required", 587, SEC_STARTTLS);
	classify(&ev, NULL, NULL, &d);
	check(d.cat == DIAG_AUTH_FAILED &&
	      strcmp(d.reason, "app_password_required") == 0,
	      "535 5.7.9 app password is auth_failed/app_password_required "
	      "(%s/%s)", diag_cat_name(d.cat), d.reason);
	check(has_fix(&d, "app password"), "it says to create an app password");
	/* "5.7.80" is not "5.7.8": the enhanced code is matched whole. */
	smtp_ev(&ev, STAGE_MAIL, 550, "5.7.80 not a login failure", 587,
	        SEC_STARTTLS);
	classify(&ev, NULL, NULL, &d);
	check(d.cat == DIAG_SENDER_REJECTED, "5.7.80 is not 5.7.8 (%s)",
	      diag_cat_name(d.cat));
	/* A recipient's full mailbox is no sending quota. */
	smtp_ev(&ev, STAGE_RCPT, 552, "5.2.2 Quota exceeded (mailbox for user is full)",
	        587, SEC_STARTTLS);
	classify(&ev, NULL, NULL, &d);
	check(d.cat == DIAG_RECIPIENT_REJECTED &&
	      strcmp(d.reason, "mailbox_full") == 0,
	      "RCPT 552 5.2.2 quota is a full mailbox (%s/%s)",
	      diag_cat_name(d.cat), d.reason);
}

static void
preset_init(struct preset *p, const char *id, const char *name,
            const char *smtp_host, unsigned port, bool app_password)
{
	memset(p, 0, sizeof *p);
	snprintf(p->id, sizeof p->id, "%s", id);
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->smtp[0].host, sizeof p->smtp[0].host, "%s", smtp_host);
	p->smtp[0].port = port;
	p->smtp[0].security = SEC_STARTTLS;
	p->nsmtp = 1;
	p->app_password = app_password;
}

/* What the fixes say, given the evidence, the account and the preset. */
static void
test_fixes(void)
{
	struct diag_evidence ev;
	struct diag_input in;
	struct diagnosis d;
	struct account a;
	struct preset bridge, zoho;
	char why[128];

	test_account(&a);
	/* Any id: what makes it a bridge is its local_app key. */
	preset_init(&bridge, "my-bridge", "ProtonMail Bridge",
	            "127.0.0.1", 1025, false);
	strcpy(bridge.local_app, "Proton Mail Bridge");
	preset_init(&zoho, "zoho", "Zoho", "smtp.zoho.eu", 587, true);

	/* Connection refused: host:port, firewall, the other port. */
	smtp_ev(&ev, STAGE_CONNECT, 0, "", 587, SEC_STARTTLS);
	ev.sys_errno = ECONNREFUSED;
	classify(&ev, &a, NULL, &d);
	check(has_fix(&d, "mail.example.com:587") &&
	      has_fix(&d, "firewall") &&
	      has_fix(&d, "465 with ssl instead of 587 with starttls"),
	      "refused on 587 names host:port, firewall, 465 with ssl");
	dump_fixes(&d);
	smtp_ev(&ev, STAGE_CONNECT, 0, "", 465, SEC_SSL);
	ev.sys_errno = ECONNREFUSED;
	classify(&ev, &a, NULL, &d);
	check(has_fix(&d, "587 with starttls instead of 465 with ssl"),
	      "refused on 465 suggests 587 with starttls");
	smtp_ev(&ev, STAGE_CONNECT, 0, "", 993, SEC_SSL);
	ev.imap = true;
	ev.sys_errno = ECONNREFUSED;
	classify(&ev, &a, NULL, &d);
	check(has_fix(&d, "143 with starttls instead of 993 with ssl"),
	      "IMAP refused on 993 suggests 143 with starttls");

	/* Bridge: not running. */
	smtp_ev(&ev, STAGE_CONNECT, 0, "", 1025, SEC_STARTTLS);
	strcpy(ev.host, "127.0.0.1");
	ev.sys_errno = ECONNREFUSED;
	classify(&ev, &a, &bridge, &d);
	check(d.cat == DIAG_CONNECTION_REFUSED &&
	      strstr(d.fixes[0], "Proton Mail Bridge is not running: start it "
	             "on this machine") != NULL,
	      "Bridge refused: first fix says to start the Bridge");
	check(!has_fix(&d, "Test with another port"),
	      "Bridge refused: no other-port guess");
	dump_fixes(&d);

	/* Auth: username vs address, app password, case; Zoho; Bridge. */
	smtp_ev(&ev, STAGE_AUTH, 535, "5.7.8 Error: authentication failed", 587,
	        SEC_STARTTLS);
	classify(&ev, &a, NULL, &d);
	check(has_fix(&d, "\"bob\"") && has_fix(&d, "bob@example.com") &&
	      has_fix(&d, "2FA") && has_fix(&d, "case"),
	      "auth failed names username and address, 2FA, case");
	dump_fixes(&d);
	classify(&ev, &a, &zoho, &d);
	check(has_fix(&d, "Zoho requires an app password: create one in Zoho's "
	              "security settings"),
	      "Zoho auth failed: Zoho requires an app password");
	dump_fixes(&d);
	strcpy(ev.host, "127.0.0.1");
	ev.port = 1025;
	classify(&ev, &a, &bridge, &d);
	check(has_fix(&d, "Use the password Proton Mail Bridge shows for this "
	              "account"),
	      "Bridge auth failed: use the Bridge password");
	strcpy(a.username, "bob@example.com");
	smtp_ev(&ev, STAGE_AUTH, 535, "5.7.8 Error: authentication failed", 587,
	        SEC_STARTTLS);
	classify(&ev, &a, NULL, &d);
	check(has_fix(&d, "Check the username \"bob@example.com\""),
	      "auth failed with username = address names it once");
	test_account(&a);

	/* TLS mismatch: which port and encryption instead. */
	smtp_ev(&ev, STAGE_TLS, 220, "mail.example.com ESMTP", 587, SEC_SSL);
	ev.peer_spoke_plain = true;
	classify(&ev, &a, NULL, &d);
	check(d.cat == DIAG_TLS_MISMATCH &&
	      has_fix(&d, "This port speaks plain SMTP: use port 587 with starttls"),
	      "ssl on 587 greeted in plain: use 587 with starttls");
	dump_fixes(&d);
	smtp_ev(&ev, STAGE_TLS, 0, "", 2587, SEC_SSL);
	ev.peer_spoke_plain = true;
	ev.tls_handshake_failed = true;
	classify(&ev, &a, NULL, &d);
	check(has_fix(&d, "This port speaks plain SMTP: use port 2587 with starttls"),
	      "ssl met clear text (no reply kept): starttls on the same port");
	smtp_ev(&ev, STAGE_TLS, 0, "", 2587, SEC_SSL);
	ev.tls_handshake_failed = true;
	classify(&ev, &a, NULL, &d);
	check(d.cat == DIAG_TLS_MISMATCH &&
	      has_fix(&d, "handshake on port 2587 failed: use port 587 with starttls"),
	      "ssl handshake failed without clear text: starttls on 587");
	smtp_ev(&ev, STAGE_TLS, 220, "mx.example.com ESMTP", 25, SEC_SSL);
	ev.peer_spoke_plain = true;
	classify(&ev, &a, NULL, &d);
	check(has_fix(&d, "use port 25 with starttls"),
	      "ssl on 25 greeted in plain: starttls on the same port");
	smtp_ev(&ev, STAGE_TLS, 500, "5.5.1 what?", 2526, SEC_SSL);
	ev.peer_spoke_plain = true;
	classify(&ev, &a, NULL, &d);
	check(has_fix(&d, "use port 587 with starttls"),
	      "ssl met plain text without a greeting: starttls on 587");
	smtp_ev(&ev, STAGE_GREETING, 0, "", 465, SEC_STARTTLS);
	ev.timed_out = true;
	classify(&ev, &a, NULL, &d);
	check(d.cat == DIAG_TLS_MISMATCH &&
	      has_fix(&d, "use port 465 with ssl"),
	      "starttls on 465 timing out at the greeting: use 465 with ssl");
	dump_fixes(&d);
	smtp_ev(&ev, STAGE_GREETING, 0, "", 993, SEC_STARTTLS);
	ev.imap = true;
	ev.timed_out = true;
	classify(&ev, &a, NULL, &d);
	check(d.cat == DIAG_TLS_MISMATCH && has_fix(&d, "use port 993 with ssl"),
	      "IMAP starttls on 993: use 993 with ssl");
	check(diag_exit_code(d.cat) == EX_PROTOCOL, "tls_mismatch exits 76");

	/* Certificates. */
	smtp_ev(&ev, STAGE_CERT, 0, "", 1025, SEC_STARTTLS);
	ev.cert = CERT_SELF_SIGNED;
	diag_input_init(&in, &ev, &a, &bridge);
	strcpy(in.pin_candidate, "sha256:0123456789abcdef0123456789abcdef"
	       "0123456789abcdef0123456789abcdef");
	diag_classify(&in, &d);
	check(strcmp(d.reason, "self_signed") == 0 &&
	      strncmp(d.pin_candidate, "sha256:0123", 11) == 0 &&
	      has_fix(&d, "pin its fingerprint") &&
	      has_fix(&d, "--pin sha256:0123456789abcdef"),
	      "self-signed: keeps the probe's pin candidate and shows it");
	dump_fixes(&d);
	ev.cert = CERT_PIN_MISMATCH;
	in.preset = NULL;
	diag_classify(&in, &d);
	check(has_fix(&d, "changed since you pinned it: check with your "
	              "provider before re-pinning"),
	      "pin mismatch: check with the provider before re-pinning");
	ev.cert = CERT_EXPIRED;
	classify(&ev, &a, NULL, &d);
	check(has_fix(&d, "Contact your provider") &&
	      has_fix(&d, "right encryption type"),
	      "expired: right encryption type, contact your provider");
	ev.cert = CERT_HOSTNAME_MISMATCH;
	classify(&ev, &a, &zoho, &d);
	check(has_fix(&d, "use the server name on the certificate") &&
	      has_fix(&d, "smtp.zoho.eu"),
	      "hostname mismatch: the name on the certificate, the preset's host");
	ev.cert = CERT_UNTRUSTED;
	classify(&ev, &a, NULL, &d);
	check(has_fix(&d, "--ca-file"), "untrusted: --ca-file or pin");

	/* A working alternative the probe found comes first. */
	smtp_ev(&ev, STAGE_CONNECT, 0, "", 587, SEC_STARTTLS);
	ev.sys_errno = ETIMEDOUT;
	diag_input_init(&in, &ev, &a, NULL);
	in.alt_port = 465;
	in.alt_security = SEC_SSL;
	diag_classify(&in, &d);
	check(d.cat == DIAG_TIMEOUT && d.alt_port == 465 &&
	      strstr(d.fixes[0], "port 465 with ssl") != NULL &&
	      strcmp(d.suggestion, "port 465 with ssl works") == 0,
	      "the probe's alternative is kept and is the first fix");

	diag_input_init(&in, &ev, &a, NULL);
	in.alt_port = 465;
	in.alt_security = SEC_SSL;
	strcpy(in.suggestion, "smtp.zoho.com port 465 with ssl answers and its "
	       "TLS works");
	diag_classify(&in, &d);
	check(strstr(d.fixes[0], "smtp.zoho.com port 465 with ssl") != NULL &&
	      strncmp(d.suggestion, "smtp.zoho.com", 13) == 0,
	      "the probe's suggestion naming another host is kept and shown");

	/* What a server says is bounded and stripped of controls. */
	smtp_ev(&ev, STAGE_MAIL, 550, "", 587, SEC_STARTTLS);
	memset(ev.reply, 'x', sizeof ev.reply - 1);
	memcpy(ev.reply, "5.7.1 \x1b[31mred\t", 15);
	ev.reply[30] = '\n';
	classify(&ev, &a, NULL, &d);
	check(strchr(d.reply, '\x1b') == NULL && strchr(d.reply, '\t') == NULL &&
	      strchr(d.reply, '\n') != NULL &&
	      strlen(d.reply) < sizeof d.reply,
	      "the reply keeps line breaks, loses other controls, is bounded");

	/* A 253-byte host name still gives bounded, clean fixes. */
	smtp_ev(&ev, STAGE_CONNECT, 0, "", 587, SEC_STARTTLS);
	memset(ev.host, 'a', ACCT_HOST_MAX);
	ev.host[ACCT_HOST_MAX] = '\0';
	ev.sys_errno = ECONNREFUSED;
	classify(&ev, &a, NULL, &d);
	why[0] = '\0';
	check(fixes_clean(&d, why, sizeof why),
	      "a long host name gives clean fixes %s", why);

	/* No evidence at all, no account: still one category. */
	classify(NULL, NULL, NULL, &d);
	check(d.cat == DIAG_INTERNAL_ERROR && d.nfixes > 0,
	      "NULL evidence is an internal error with a fix");
	/* The account's server when the evidence names none. */
	memset(&ev, 0, sizeof ev);
	ev.stage = STAGE_CONNECT;
	ev.sys_errno = ECONNREFUSED;
	classify(&ev, &a, NULL, &d);
	check(has_fix(&d, "mail.example.com:587"),
	      "falls back to the account's server and port");
}

/* The diagnosis is a function of its input: the same input gives the same
 * output, whatever out held; what the probe found is shown only where it
 * fits; which failures another port would fix. */
static void
test_input(void)
{
	static const struct {
		bool imap;
		enum diag_stage stage;
		int err;
		bool timed_out;
		bool plain;
		int code;
		const char *reply;
		bool want;
	} alts[] = {
		{ false, STAGE_CONNECT, ECONNREFUSED, false, false, 0, "", true },
		{ false, STAGE_CONNECT, ETIMEDOUT, true, false, 0, "", true },
		{ false, STAGE_TLS, 0, false, true, 220, "mail.example.com", true },
		{ false, STAGE_GREETING, 0, true, false, 0, "", true },
		{ true, STAGE_CONNECT, ECONNREFUSED, false, false, 0, "", false },
		{ false, STAGE_AUTH, 0, false, false, 535, "5.7.8 bad", false },
		{ false, STAGE_RESOLVE, 0, false, false, 0, "", false },
	};
	struct diag_evidence ev;
	struct diag_input in;
	struct diagnosis d1, d2;
	struct account a;
	size_t i;

	test_account(&a);
	smtp_ev(&ev, STAGE_AUTH, 535, "5.7.8 Error: authentication failed", 587,
	        SEC_STARTTLS);
	diag_input_init(&in, &ev, &a, NULL);
	strcpy(in.pin_candidate, "sha256:00");
	memset(&d1, 0x00, sizeof d1);
	memset(&d2, 0xa5, sizeof d2);
	diag_classify(&in, &d1);
	diag_classify(&in, &d2);
	check(memcmp(&d1, &d2, sizeof d1) == 0,
	      "the same input gives the same diagnosis, whatever out held");
	check(d1.cat == DIAG_AUTH_FAILED && d1.pin_candidate[0] == '\0',
	      "a fingerprint is not offered for a failure that is no certificate's");
	ev.stage = STAGE_CERT;
	ev.cert = CERT_SELF_SIGNED;
	diag_classify(&in, &d1);
	check(d1.cat == DIAG_INVALID_CERTIFICATE &&
	      strcmp(d1.pin_candidate, "sha256:00") == 0,
	      "a certificate's failure offers the probe's fingerprint");
	in.alt_port = 70000;
	in.alt_security = SEC_SSL;
	diag_classify(&in, &d1);
	check(d1.alt_port == 0 && d1.suggestion[0] == '\0',
	      "an alternative port past 65535 is dropped");
	check(!diag_wants_alternatives(NULL), "no input wants no alternatives");
	diag_classify(NULL, &d1);
	check(d1.cat == DIAG_INTERNAL_ERROR && d1.nfixes > 0,
	      "no input at all is an internal error with a fix");

	for (i = 0; i < sizeof alts / sizeof alts[0]; i++) {
		smtp_ev(&ev, alts[i].stage, alts[i].code, alts[i].reply,
		        587,
		        alts[i].plain ? SEC_SSL : SEC_STARTTLS);
		ev.imap = alts[i].imap;
		ev.sys_errno = alts[i].err;
		ev.timed_out = alts[i].timed_out;
		ev.peer_spoke_plain = ev.tls_handshake_failed = alts[i].plain;
		if (alts[i].stage == STAGE_GREETING)
			ev.port = 465;
		diag_input_init(&in, &ev, &a, NULL);
		diag_classify(&in, &d1);
		check(diag_wants_alternatives(&in) == alts[i].want,
		      "case %zu (%s%s at %s): another port %s", i,
		      alts[i].imap ? "IMAP " : "", diag_cat_name(d1.cat),
		      diag_stage_name(alts[i].stage),
		      alts[i].want ? "is looked for" : "is not looked for");
	}
}

static void
test_tables(void)
{
	static const struct {
		enum diag_cat c;
		const char *name;
		int exit_code;
	} want[] = {
		{ DIAG_OK, "ok", 0 },
		{ DIAG_DNS_FAILURE, "dns_failure", 68 },
		{ DIAG_CONNECTION_REFUSED, "connection_refused", 69 },
		{ DIAG_TIMEOUT, "timeout", 75 },
		{ DIAG_TLS_MISMATCH, "tls_mismatch", 76 },
		{ DIAG_STARTTLS_UNAVAILABLE, "starttls_unavailable", 76 },
		{ DIAG_INVALID_CERTIFICATE, "invalid_certificate", 77 },
		{ DIAG_AUTH_FAILED, "auth_failed", 77 },
		{ DIAG_AUTH_UNSUPPORTED, "auth_unsupported", 77 },
		{ DIAG_ENCRYPTION_REQUIRED, "encryption_required", 76 },
		{ DIAG_RATE_LIMITED, "rate_limited", 75 },
		{ DIAG_SENDER_REJECTED, "sender_rejected", 77 },
		{ DIAG_RECIPIENT_REJECTED, "recipient_rejected", 67 },
		{ DIAG_SERVER_UNAVAILABLE, "server_unavailable", 69 },
		{ DIAG_PROTOCOL_ERROR, "protocol_error", 76 },
		{ DIAG_CANCELLED, "cancelled", 75 },
		{ DIAG_INTERNAL_ERROR, "internal_error", 70 },
	};
	static const char *const stages[] = {
		"none", "resolve", "connect", "greeting", "ehlo", "starttls",
		"tls", "certificate", "auth", "mail", "rcpt", "data", "quit",
		"imap_login", "imap_select", "imap_search",
	};
	static const char *const certs[] = {
		"", "expired", "not_yet_valid", "hostname_mismatch", "untrusted",
		"self_signed", "pin_mismatch",
	};
	size_t i;

	check(sizeof want / sizeof want[0] == DIAG_NCATS,
	      "the test knows all %d categories", DIAG_NCATS);
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		const char *t = diag_cat_title(want[i].c);

		check(strcmp(diag_cat_name(want[i].c), want[i].name) == 0 &&
		      diag_cat_from_name(want[i].name) == (int)want[i].c,
		      "category %s: name round trip", want[i].name);
		check(t != NULL && t[0] != '\0',
		      "category %s has title \"%s\"", want[i].name, t ? t : "");
		check(diag_exit_code(want[i].c) == want[i].exit_code,
		      "category %s exits %d (got %d)", want[i].name,
		      want[i].exit_code, diag_exit_code(want[i].c));
	}
	check(strcmp(diag_cat_title(DIAG_CONNECTION_REFUSED), "Connection refused") == 0 &&
	      strcmp(diag_cat_title(DIAG_AUTH_FAILED), "Authentication failed") == 0 &&
	      strcmp(diag_cat_title(DIAG_INVALID_CERTIFICATE), "Invalid certificate") == 0 &&
	      strcmp(diag_cat_title(DIAG_RATE_LIMITED), "Sending limit reached") == 0,
	      "the page's four titles");
	check(diag_cat_from_name("nope") == -1 && diag_cat_from_name(NULL) == -1 &&
	      diag_cat_from_name("") == -1, "unknown category names are -1");
	for (i = 0; i < sizeof stages / sizeof stages[0]; i++)
		check(strcmp(diag_stage_name((enum diag_stage)i), stages[i]) == 0,
		      "stage %zu is %s", i, stages[i]);
	check(strcmp(diag_stage_name((enum diag_stage)99), "unknown") == 0,
	      "an unknown stage is named unknown");
	for (i = 0; i < sizeof certs / sizeof certs[0]; i++)
		check(strcmp(cert_problem_name((enum cert_problem)i), certs[i]) == 0,
		      "certificate problem %zu is \"%s\"", i, certs[i]);
}

/* Every hint of the shipped presets names a category and a reason the
 * diagnosis knows (a hint that does not would be ignored in silence), and
 * reaches its own category on a reply made of its own codes and words. */
static void
test_shipped_hints(void)
{
	struct preset_list l;
	const char *src = getenv("top_srcdir");
	char dir[1024];
	size_t i, k, n = 0;

	snprintf(dir, sizeof dir, "%s/presets", src ? src : ".");
	setenv("FLUENZR_PRESET_DIR", dir, 1);
	check(preset_load_all(&l, NULL, NULL) == 0, "the shipped presets load");
	for (i = 0; i < l.n; i++)
		for (k = 0; k < l.v[i].nhints; k++) {
			n++;
			check(diag_hint_valid(&l.v[i].hints[k]),
			      "%s hint %zu names a known category/reason (%s/%s)",
			      l.v[i].id, k + 1, l.v[i].hints[k].cat,
			      l.v[i].hints[k].reason);
		}
	check(n >= 20, "the shipped presets carry hints (%zu)", n);
	preset_list_free(&l);
}

/* What the diagnosis rests on, the server's words when no rule knows
 * them, and no fix that contradicts what was seen. */
static void
test_honest(void)
{
	struct diag_evidence ev;
	struct diagnosis d;
	struct account a;

	test_account(&a);
	smtp_ev(&ev, STAGE_AUTH, 535, "5.7.139 Authentication unsuccessful, "
	        "SmtpClientAuthentication is disabled for the Tenant.", 587,
	        SEC_STARTTLS);
	ev.tls_on = true;
	classify(&ev, &a, NULL, &d);
	check(strcmp(d.evidence, "535 5.7.139") == 0, "evidence: the codes "
	      "an enhanced-code rule rests on (%s)", d.evidence);
	check(!has_fix(&d, "Caps Lock") && !has_fix(&d, "app password"),
	      "SMTP AUTH disabled: no password advice");
	smtp_ev(&ev, STAGE_DATA, 550, "Your account has Reached Its Limit "
	        "for today", 587, SEC_STARTTLS);
	classify(&ev, &a, NULL, &d);
	check(strcmp(d.evidence, "550 \"Reached Its Limit\"") == 0,
	      "evidence: the words as the server wrote them (%s)", d.evidence);

	/* No rule knows it: the first fix quotes the server. */
	smtp_ev(&ev, STAGE_MAIL, 550, "5.7.1 The moon is in the wrong phase",
	        587, SEC_STARTTLS);
	ev.auth_ok = true;
	classify(&ev, &a, NULL, &d);
	check(d.nfixes > 0 && strstr(d.fixes[0], "own words") &&
	      strstr(d.fixes[0], "The moon is in the wrong phase"),
	      "a reply no rule knows: its words are the first fix (%s)",
	      d.nfixes ? d.fixes[0] : "none");
	check(strstr(d.evidence, "no rule knows") != NULL,
	      "a reply no rule knows: the evidence says so (%s)", d.evidence);

	/* No AUTH on a submission port that is not 25. */
	smtp_ev(&ev, STAGE_AUTH, 503, "5.5.1 Error: authentication not enabled",
	        587, SEC_STARTTLS);
	ev.auth_not_offered = true;
	ev.tls_on = true;
	classify(&ev, &a, NULL, &d);
	check(d.cat == DIAG_AUTH_UNSUPPORTED && !has_fix(&d, "port 25") &&
	      !has_fix(&d, "Turn encryption on"),
	      "no AUTH after TLS on 587: neither 'port 25' nor 'encryption on'");
	ev.port = 25;
	classify(&ev, &a, NULL, &d);
	check(has_fix(&d, "port 25"), "no AUTH on port 25: says port 25");

	/* Send As refused while the login is the address. */
	strcpy(a.username, a.email);
	smtp_ev(&ev, STAGE_DATA, 554, "5.2.252 SendAsDenied; bob@example.com "
	        "not allowed to send as x@example.org", 587, SEC_STARTTLS);
	classify(&ev, &a, NULL, &d);
	check(d.cat == DIAG_SENDER_REJECTED && !has_fix(&d, "give bob@example.com"),
	      "Send As with login = address: no 'give X Send As for X'");
	/* Greylisting and connection limits: no quota to increase. */
	smtp_ev(&ev, STAGE_RCPT, 450, "4.2.0 <x@example.org>: Recipient address "
	        "rejected: Greylisted", 587, SEC_STARTTLS);
	classify(&ev, &a, NULL, &d);
	check(!has_fix(&d, "quota") && !has_fix(&d, "does not exist"),
	      "greylisting: no quota, no missing mailbox");
	ev.imap = true;
	ev.stage = STAGE_IMAP_LOGIN;
	ev.reply_code = 0;
	snprintf(ev.reply, sizeof ev.reply, "Maximum number of connections from "
	         "user+IP exceeded");
	snprintf(ev.imap_code, sizeof ev.imap_code, "UNAVAILABLE");
	classify(&ev, &a, NULL, &d);
	check(d.cat == DIAG_RATE_LIMITED && !has_fix(&d, "quota"),
	      "IMAP connection limit: no quota");

	/* A bare refusal at RCPT of the address just accepted as the login
	 * (Exim's "Administrative prohibition"): its mailbox exists. */
	smtp_ev(&ev, STAGE_RCPT, 550, "Administrative prohibition", 587,
	        SEC_STARTTLS);
	ev.tls_on = true;
	ev.auth_ok = true;
	classify(&ev, &a, NULL, &d);
	check(d.cat == DIAG_RECIPIENT_REJECTED && !has_fix(&d, "mailbox exists at"),
	      "RCPT refused for the login's own address: no missing mailbox");
	ev.auth_ok = false;
	classify(&ev, &a, NULL, &d);
	check(has_fix(&d, "mailbox exists at"),
	      "RCPT refused without a login: the mailbox may be missing");
}

/* Placement findings and the connection limit a server states. */
static void
test_placement(void)
{
	struct diag_finding f[DIAG_MAX_FINDINGS];
	struct diag_place_input in;
	char out[256];
	size_t n;

	memset(&in, 0, sizeof in);
	in.landed = DIAG_LANDED_JUNK;
	in.junk_folder = "[Gmail]/Spam";
	in.sent_copy = 1;
	in.spf = "pass";
	in.dkim = "fail";
	in.dmarc = "fail";
	in.sig_d = "mailer.example.net";
	in.from_domain = "example.org";
	in.aligned_relaxed = 0;
	in.dkim_verified = -1;
	n = diag_placement(&in, f, DIAG_MAX_FINDINGS);
	check(n == 2 && !strcmp(f[0].reason, "landed_in_junk") &&
	      !strcmp(f[1].reason, "dkim_not_aligned"),
	      "placement: junk and an unaligned signature (%zu)", n);
	check(strstr(f[0].title, "[Gmail]/Spam") != NULL, "placement: the folder is named");
	check(f[0].nfixes >= 4 && strstr(f[0].fixes[0], "dkim=fail, dmarc=fail"),
	      "placement: the receiving server's failed checks come first");
	in.landed = DIAG_LANDED_INBOX;
	in.sent_copy = 0;
	in.dkim = in.dmarc = "pass";
	in.aligned_relaxed = 1;
	in.dkim_verified = 2;
	in.dkim_why = "signature verification failed";
	n = diag_placement(&in, f, DIAG_MAX_FINDINGS);
	check(n == 2 && !strcmp(f[0].reason, "no_sent_copy") &&
	      !strcmp(f[1].reason, "dkim_failed"), "placement: no Sent copy, DKIM failed");
	in.sent_copy = 1;
	in.dkim_verified = 1;
	check(diag_placement(&in, f, DIAG_MAX_FINDINGS) == 0, "placement: all well, no finding");
	in.landed = DIAG_LANDED_NOT_FOUND;
	in.wait_s = 15;
	n = diag_placement(&in, f, 1);
	check(n == 1 && !strcmp(f[0].reason, "not_found") && strstr(f[0].title, "15 s"),
	      "placement: not found, bounded by max");
	for (size_t i = 0; diag_finding_name(i); i++)
		check(strlen(diag_finding_name(i)) < sizeof f[0].reason, "finding name %s fits",
		      diag_finding_name(i));

	check(diag_conn_limit("Maximum number of connections from user+IP exceeded "
	                      "(mail_max_userip_connections=10)", out, sizeof out) &&
	      strncmp(out, "10 per user and address", 23) == 0, "conn limit: Dovecot: %s", out);
	check(diag_conn_limit("[ALERT] Too many simultaneous connections. (Failure)", out,
	                      sizeof out) && strstr(out, "Too many simultaneous"),
	      "conn limit: Gmail: %s", out);
	check(!diag_conn_limit("[AUTHENTICATIONFAILED] Authentication failed.", out, sizeof out) &&
	      out[0] == '\0', "conn limit: not said, not guessed");
	check(!diag_conn_limit(NULL, out, sizeof out), "conn limit: nothing said");
}

int
main(void)
{
	test_tables();
	test_placement();
	test_honest();
	test_shipped_hints();
	test_rules();
	test_rate_limits();
	test_not_limits();
	test_fixes();
	test_input();
	return unit_done();
}
