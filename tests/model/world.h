/*
 * world.h: the two upstream services of the in-process model test, held
 * in memory.
 *
 * One Productboard feature and one tracker issue (GitLab, GitHub or
 * Jira), as the real services keep them, answering the REST calls pbsync makes
 * (http_set_transport) and sending the webhook deliveries the services
 * would send for every change, pbsync's own writes included.  The whole
 * state is plain data, so a sequence starts from the template by a
 * struct copy.
 */
#ifndef PBSYNC_MODEL_WORLD_H
#define PBSYNC_MODEL_WORLD_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "base/http.h"

/* util_now() of the model: 2026-01-01T00:00:00Z plus world.now. */
#define WORLD_T0	1767225600.0
#define WORLD_POOL	64	/* deliveries waiting for the sender */
#define WORLD_TEXT	128	/* a title or a description's own text */
#define WORLD_DESC	2048	/* an issue's description, footer included */
#define WORLD_BODY	512	/* a delivery's JSON */

/* Which service a delivery comes from, and so which route it takes. */
enum world_side { SIDE_PB, SIDE_TR };

/* Which tracker the issue lives in: its API, deliveries and states. */
enum world_kind { KIND_GITLAB, KIND_GITHUB, KIND_JIRA, KIND_COUNT };

/* The fields the sync keeps equal on both sides. */
enum world_field { F_NAME, F_DESC, F_STATUS, F_COUNT };

struct world_feature {
	char		 name[WORLD_TEXT];
	char		 desc[WORLD_TEXT];	/* HTML */
	char		 status[16];		/* a status id */
	long long	 updated;	/* world.now of its last change */
	int		 connected;		/* the plugin column was set */
};

struct world_issue {
	int		 exists;
	char		 title[WORLD_TEXT];
	/* Markdown (GitLab, GitHub) or ADF JSON (Jira), pbsync's footer */
	char		 desc[WORLD_DESC];
	/* "opened" or "closed"; Jira: "To Do", "In Progress" or "Done" */
	char		 state[16];
	long long	 updated;
};

struct world_delivery {
	enum world_side	 side;
	char		 key[40];	/* the sender's delivery id, or "" */
	char		 auth[128];	/* the header pbsync checks */
	char		 body[WORLD_BODY];
	int		 echo;		/* sent for one of pbsync's writes */
	int		 acked;		/* pbsync acknowledged it before */
};

struct world {
	enum world_kind	 kind;
	long long	 now;		/* logical seconds since WORLD_T0 */
	struct world_feature f;
	struct world_issue i;
	/*
	 * What pbsync did to each side: writes of the synced fields (on
	 * Jira an edit and a transition are a write each).
	 */
	int		 pb_writes, tr_writes;
	int		 noop_writes;	/* a write that changed nothing */
	int		 unexpected;	/* a call no real service answers */
	char		 what[200];	/* the first odd call, for the trace */
	struct world_delivery pool[WORLD_POOL];
	int		 npool;
	int		 lost_pool;	/* deliveries the full pool refused */
	unsigned	 serial;	/* delivery ids */
};

/* The names both sides and the integration share. */
#define W_FEATURE	"3f1c2a9e-0000-4000-8000-000000000001"
#define W_PLUGIN	"7a0e5b1c-0000-4000-8000-0000000000aa"
#define W_PB_URL	"https://pb.model.test"
#define W_TR_URL	"https://tracker.model.test"
#define W_GH_REPO	"acme/widgets"
/* Jira: the project and issue type, the account and its Basic pair. */
#define W_JIRA_PROJECT	"10000"
#define W_JIRA_TYPE	"10001"
#define W_JIRA_KEY	"MOD"
#define W_JIRA_EMAIL	"pbsync@model.test"
#define W_JIRA_SELF	"5b10ac8d82e05b22cc7d4ef5"
/* base64 of W_JIRA_EMAIL ":" W_TR_TOKEN, worked out by hand (base64(1)) */
#define W_JIRA_BASIC	"cGJzeW5jQG1vZGVsLnRlc3Q6dHItdG9rZW4tb2YtdGhlLW1vZGVs"
#define W_GL_PROJECT	1001
#define W_ISSUE_ID	9001
#define W_ISSUE_NO	7
#define W_SELF		42
#define W_PB_TOKEN	"pb-token-of-the-model"
#define W_TR_TOKEN	"tr-token-of-the-model"
#define W_PBHOOK_SECRET	"pb-hook-secret-of-the-model"
#define W_TRHOOK_SECRET	"tracker-hook-secret-of-the-model"

/* "gitlab", "github", "jira": the kind as pbsync's registry names it. */
const char *world_kind_name(enum world_kind);
/*
 * Formats world time t as ISO 8601: frac 0 GitLab's and GitHub's
 * "...:SSZ", 1 Productboard's microseconds, 2 Jira's "...:SS.mmm+0000".
 */
void	 world_time(long long t, int frac, char *out, size_t len);
/* Queues a delivery; a full pool counts it in lost_pool. */
void	 world_send(struct world *, enum world_side, const char *key,
	    const char *auth, const char *body, int echo);
/*
 * Copies the string field v, if present, into dst: 1 if that changed it,
 * 0 if not (or absent), -1 if not a string or too long.
 */
int	 world_take(const cJSON *v, char *dst, size_t len);
/* Notes a call the services would refuse as unknown; answers 404. */
int	 world_unexpected(struct world *, const char *method, const char *url,
	    cJSON **out);
/*
 * Answers one call: the status, and the JSON answer in *out (NULL for
 * none).  Every call goes to exactly one of the services by its URL, and
 * carries that service's token (401 without) and required headers.
 */
int	 world_serve(struct world *, const struct http_req *, cJSON **out);

/* mem_pb.c: Productboard's v2 entities and plugin connections. */
int	 mem_pb_serve(struct world *, const char *method, const char *path,
	    const cJSON *body, cJSON **out);
/* A person edits the feature: field f set to a new value made from n. */
void	 mem_pb_edit(struct world *, enum world_field, unsigned n);

/* mem_tracker.c: the issue, as GitLab's REST v4, GitHub's REST or Jira
   Cloud's REST v3. */
int	 mem_tracker_serve(struct world *, const char *method,
	    const char *path, const cJSON *body, cJSON **out);
/* A person edits the issue (keeping pbsync's footer). */
void	 mem_tracker_edit(struct world *, enum world_field, unsigned n);
/* The issue's description without pbsync's footer, trimmed. */
void	 mem_tracker_text(const struct world *, char *out, size_t len);
/* mem_jira.c: the same, and the text of a description, for Jira. */
int	 mem_jira_serve(struct world *, const char *method, const char *path,
	    const cJSON *body, cJSON **out);
void	 mem_jira_edit(struct world *, enum world_field, unsigned n);
void	 mem_jira_desc_text(const char *desc, char *out, size_t len);
/*
 * The text of a description as the tracker kind holds it (Markdown, or
 * Jira's ADF JSON: the text of its one paragraph), without the footer,
 * trimmed; what the model cannot read gives "?" and the text, which
 * matches nothing.  For the link's snapshot, kept in the tracker's form.
 */
void	 mem_tracker_desc_text(enum world_kind, const char *desc, char *out,
	    size_t len);
/* "opened" or "closed": the class of a state of the tracker kind. */
const char *mem_tracker_class(enum world_kind, const char *state);

#endif
