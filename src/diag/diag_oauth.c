/* The reasons of OAuth sign-in failures: what the authorization server
 * said when asked for a token (its RFC 6749 error, and Microsoft's AADSTS
 * number), and a mail server refusing a token the authorization server
 * issued. Each says what is wrong and the fix, in the voice of the rest of
 * the knowledge base. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "diag.h"
#include "util.h"

static void
fix(struct diagnosis *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fix(struct diagnosis *out, const char *fmt, ...)
{
	va_list ap;

	if (out->nfixes >= DIAG_MAX_FIXES)
		return;
	va_start(ap, fmt);
	vsnprintf(out->fixes[out->nfixes++], sizeof(out->fixes[0]), fmt, ap);
	va_end(ap);
}

static const char *
email_of(const struct account *a)
{
	return a && a->email[0] ? a->email : "ACCOUNT";
}

static bool
is_microsoft(const struct account *a)
{
	return a && strstr(a->oauth_token_url, "login.microsoftonline.com") != NULL;
}

static bool
is_google(const struct account *a)
{
	return a && strstr(a->oauth_token_url, "googleapis.com") != NULL;
}

static void
start(struct diagnosis *out, enum diag_cat cat, const char *reason,
      const char *title, const char *said)
{
	memset(out, 0, sizeof(*out));
	out->cat = cat;
	str_copy(out->reason, sizeof(out->reason), reason);
	str_copy(out->title, sizeof(out->title), title);
	if (said)
		str_sanitize(out->reply, sizeof(out->reply), said, strlen(said));
}

void
diag_oauth_grant(const char *code, const char *aadsts, const char *said,
                 const struct account *a, struct diagnosis *out)
{
	const char *em = email_of(a);
	char authz[320];

	code = code ? code : "";
	aadsts = aadsts ? aadsts : "";
	str_printf(authz, sizeof(authz), "fluenzr-tui account authorize %s", em);

	if (strcmp(aadsts, "AADSTS7000218") == 0) {
		start(out, DIAG_AUTH_FAILED, "oauth_public_client_off",
		      _("The app registration does not allow public client flows"), said);
		fix(out, _("In the Azure portal, App registrations > your app > "
		    "Authentication: set \"Allow public client flows\" to Yes, save, "
		    "then run: %s"), authz);
		fix(out, _("Or, if the registration is meant to be confidential, give its "
		    "client secret with --oauth-client-secret-fd"));
		return;
	}
	if (strcmp(aadsts, "AADSTS700025") == 0) {
		start(out, DIAG_AUTH_FAILED, "oauth_secret_not_allowed",
		      _("A public client must not send a client secret"), said);
		fix(out, _("Remove the client secret from the account (edit it with an "
		    "empty --oauth-client-secret-fd), then run: %s"), authz);
		return;
	}
	if (strcmp(aadsts, "AADSTS50011") == 0) {
		start(out, DIAG_AUTH_FAILED, "oauth_redirect_uri",
		      _("The redirect address is not registered for the app"), said);
		fix(out, _("In the Azure portal, Authentication > Mobile and desktop "
		    "applications: add http://localhost as a redirect URI"));
		fix(out, _("Or use the device code flow: %s --flow device"), authz);
		return;
	}
	if (strcmp(aadsts, "AADSTS700016") == 0) {
		start(out, DIAG_AUTH_FAILED, "oauth_client_unknown",
		      _("The client ID is not known to this tenant"), said);
		fix(out, _("Check the client ID against the Application (client) ID of "
		    "the registration in the Azure portal"));
		fix(out, _("A registration for one organisation only is found under its "
		    "tenant, not under \"common\": use the tenant's token and device "
		    "endpoints"));
		return;
	}
	if (strcmp(aadsts, "AADSTS65001") == 0 || strcmp(aadsts, "AADSTS90094") == 0 ||
	    strcmp(code, "consent_required") == 0 ||
	    strcmp(code, "interaction_required") == 0) {
		start(out, DIAG_AUTH_FAILED, "oauth_consent_required",
		      _("Consent or an administrator's approval is needed"), said);
		fix(out, _("Sign in again and accept the permissions asked for: %s"), authz);
		fix(out, _("In an organisation, an administrator may have to grant consent "
		    "for the app (Azure: Enterprise applications > your app > "
		    "Permissions > Grant admin consent)"));
		return;
	}
	if (strcmp(code, "invalid_grant") == 0) {
		start(out, DIAG_AUTH_FAILED, "oauth_grant_revoked",
		      _("The sign-in is no longer valid"), said);
		fix(out, _("The refresh token was revoked or has expired: sign in again "
		    "with: %s"), authz);
		if (!is_microsoft(a))
			fix(out, _("Google: an app left in \"Testing\" loses its refresh "
			    "tokens after 7 days; in Google Cloud console > OAuth consent "
			    "screen, publish the app (In production)"));
		fix(out, _("A password change or \"remove access\" in the account's "
		    "security settings also revokes the sign-in"));
		return;
	}
	if (strcmp(code, "invalid_client") == 0 || strcmp(code, "unauthorized_client") == 0) {
		start(out, DIAG_AUTH_FAILED, "oauth_client_invalid",
		      _("The authorization server does not accept this client"), said);
		fix(out, _("Check the client ID (and the client secret, if the "
		    "registration has one) of your own registration"));
		if (is_microsoft(a) || !is_google(a))
			fix(out, _("Microsoft: the registration must be a \"Mobile and desktop "
			    "application\" with \"Allow public client flows\" on"));
		if (!is_microsoft(a))
			fix(out, _("Google: the client must be of type \"Desktop app\""));
		return;
	}
	if (strcmp(code, "invalid_scope") == 0) {
		start(out, DIAG_AUTH_FAILED, "oauth_scope_refused",
		      _("The authorization server refused the scopes"), said);
		if (is_google(a))
			fix(out, _("Google does not allow the Gmail scope "
			    "(https://mail.google.com/) in the device flow: use %s "
			    "--flow loopback (through ssh -L) or --flow paste"), authz);
		else
			fix(out, _("Check the scopes of the account (--oauth-scope) against "
			    "the provider's: Microsoft needs "
			    "https://outlook.office.com/SMTP.Send, "
			    "https://outlook.office.com/IMAP.AccessAsUser.All and "
			    "offline_access"));
		return;
	}
	if (strcmp(code, "access_denied") == 0) {
		start(out, DIAG_AUTH_FAILED, "oauth_access_denied",
		      _("The sign-in was refused in the browser"), said);
		fix(out, _("Run %s again and choose Allow / Accept"), authz);
		return;
	}
	if (strcmp(code, "expired_token") == 0) {
		start(out, DIAG_AUTH_FAILED, "oauth_code_expired",
		      _("The code expired before the sign-in was completed"), said);
		fix(out, _("Run %s again and enter the new code within the time shown"),
		    authz);
		return;
	}
	if (strcmp(code, "no_refresh_token") == 0) {
		start(out, DIAG_AUTH_FAILED, "oauth_not_signed_in",
		      _("The account is not signed in yet"), said);
		fix(out, _("Sign in once with: %s"), authz);
		return;
	}
	if (strcmp(code, "cancelled") == 0) {
		start(out, DIAG_CANCELLED, "oauth_cancelled", _("The sign-in was cancelled"),
		      said);
		return;
	}
	if (strcmp(code, "timeout") == 0 || strcmp(code, "dns") == 0 ||
	    strcmp(code, "connect") == 0 || strcmp(code, "tls") == 0) {
		start(out, DIAG_SERVER_UNAVAILABLE, "oauth_server_unreachable",
		      _("The authorization server cannot be reached"), said);
		fix(out, _("Check that this machine reaches %s over HTTPS (proxy, "
		    "firewall, DNS)"), a && a->oauth_token_url[0] ? a->oauth_token_url :
		    "the token endpoint");
		return;
	}
	start(out, DIAG_AUTH_FAILED, "oauth_error",
	      _("The authorization server refused to issue a token"), said);
	fix(out, _("Read the server's words above; then sign in again with: %s"), authz);
}

bool
diag_oauth_refused(const struct diag_input *in, struct diagnosis *out)
{
	const struct account *a = in ? in->a : NULL;
	char authz[320];
	bool ms;

	if (a == NULL || !a->oauth || out->cat != DIAG_AUTH_FAILED)
		return false;
	ms = is_microsoft(a) || strstr(out->reply, "5.7.139") != NULL;
	str_copy(out->reason, sizeof(out->reason), "oauth_token_refused");
	str_copy(out->title, sizeof(out->title),
	         "The mail server refused the OAuth token");
	out->nfixes = 0;
	memset(out->fixes, 0, sizeof(out->fixes));
	str_printf(authz, sizeof(authz), "fluenzr-tui account authorize %s", a->email);
	fix(out, _("The authorization server issued the token, but the mail server "
	    "does not accept it for %s: check that the user name is the mailbox "
	    "you signed in as"), a->username[0] ? a->username : a->email);
	fix(out, _("Check that the scopes include mail access (Google: "
	    "https://mail.google.com/; Microsoft: SMTP.Send and IMAP.AccessAsUser.All), "
	    "then sign in again: %s"), authz);
	if (ms)
		fix(out, _("Microsoft 365: SMTP AUTH must be enabled for the tenant and the "
		    "mailbox even with OAuth (535 5.7.139 otherwise): Exchange admin "
		    "center > the mailbox > Email apps > Authenticated SMTP"));
	return true;
}
