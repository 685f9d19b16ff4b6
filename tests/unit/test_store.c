#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "store/store.h"
#include "t.h"

static void
fill(struct store_integration *in, const char *id)
{
	memset(in, 0, sizeof(*in));
	snprintf(in->id, sizeof(in->id), "%s", id);
	in->name = "Team A";
	in->column_label = "GitLab";
	in->pb_token = "v1.sealed";
	in->pb_token_tail = "abcd";
	in->gl_base_url = "https://gitlab.com";
	in->gl_token = "v1.sealed";
	in->gl_token_tail = "wxyz";
	in->gl_project_id = 42;
	in->gl_project_path = "grp/proj";
	in->plugin_secret = "h1";
	in->pb_hook_secret = "h2";
	in->gl_hook_secret = "h3";
}

int
main(void)
{
	struct store	 s;
	struct store_integration in, got;
	struct store_link l, l2;
	struct store_job j;
	struct store_health h;
	const char	*id = "0123456789abcdef0123456789abcdef";
	double		 now = util_now(), until;

	log_open("test_store", LOGL_ERR, NULL);
	CHECK_INT(store_open(&s, ":memory:"), 0);
	CHECK_INT(store_schema_version(&s), store_latest_version());
	CHECK(store_latest_version() >= 1);

	fill(&in, id);
	CHECK_INT(store_integration_insert(&s, &in), 0);
	CHECK_INT(store_integration_insert(&s, &in), STORE_EXISTS);
	fill(&in, "not-hex");
	CHECK_INT(store_integration_insert(&s, &in), STORE_EXISTS); /* CHECK */
	CHECK_INT(store_integration_get(&s, id, &got), 0);
	CHECK_STR(got.name, "Team A");
	CHECK_INT(got.gl_project_id, 42);
	CHECK_STR(got.conflict_policy, "latest");
	CHECK_STR(got.delete_policy, "keep");
	CHECK(got.pb_plugin_id == NULL);
	free(got.name);
	got.name = strdup("Renamed");
	got.pb_plugin_id = strdup("plug-1");
	CHECK_INT(store_integration_update(&s, &got), 0);
	store_integration_release(&got);
	CHECK_INT(store_integration_get(&s, id, &got), 0);
	CHECK_STR(got.name, "Renamed");
	CHECK_STR(got.pb_plugin_id, "plug-1");
	store_integration_release(&got);
	CHECK_INT(store_integration_get(&s, "ffffffffffffffffffffffffffffffff",
	    &got), STORE_NOTFOUND);

	/* A second claim of one feature finds the first. */
	CHECK_INT(store_link_claim(&s, id, "feat-1", "Jane", &l), 0);
	CHECK_STR(l.state, "pending");
	CHECK_INT(store_link_claim(&s, id, "feat-1", "Joe", &l2), STORE_EXISTS);
	CHECK_INT(l2.id, l.id);
	CHECK_STR(l2.pushed_by, "Jane");
	store_link_release(&l2);
	l.issue_project_id = 42;
	l.issue_iid = 7;
	l.issue_id = 1007;
	l.issue_url = "https://gl/-/issues/7";
	l.issue_title = "T";
	l.issue_state = "opened";
	l.snap_name = "T";
	CHECK_INT(store_link_set_issue(&s, &l), 0);
	l.issue_url = l.issue_title = l.issue_state = l.snap_name = NULL;
	store_link_release(&l);
	CHECK_INT(store_link_get_by_issue(&s, id, 1007, &l), 0);
	CHECK_STR(l.state, "linked");
	CHECK_INT(l.issue_iid, 7);
	store_link_release(&l);

	/* Jobs: coalescing, leasing, retry, death, revival. */
	CHECK_INT(store_job_enqueue(&s, id, "sync", "feat-1", "{}", now), 0);
	CHECK_INT(store_job_enqueue(&s, id, "sync", "feat-1", "{\"n\":2}",
	    now + 10), 0);
	CHECK_INT(store_health(&s, &h), 0);
	CHECK_INT(h.jobs_ready, 1);				/* coalesced */
	CHECK_INT(store_job_lease(&s, now + 1, 60, &j), 0);
	CHECK_STR(j.payload, "{\"n\":2}");
	CHECK_INT(j.attempts, 1);
	{ struct store_job j2;
	CHECK_INT(store_job_lease(&s, now + 1, 60, &j2),
	    STORE_NOTFOUND); }	/* leased: nobody else gets it */
	/* A new event while leased makes a fresh ready job. */
	CHECK_INT(store_job_enqueue(&s, id, "sync", "feat-1", "{}", now), 0);
	CHECK_INT(store_health(&s, &h), 0);
	CHECK_INT(h.jobs_ready + h.jobs_leased, 2);
	CHECK_INT(store_job_retry(&s, j.id, now + 5, "boom"), 0);
	CHECK_INT(store_health(&s, &h), 0);
	CHECK_INT(h.jobs_ready + h.jobs_leased, 1);	/* redundant one dropped */
	store_job_release(&j);
	CHECK_INT(store_job_lease(&s, now + 1, 60, &j), 0);
	CHECK_INT(store_job_bury(&s, j.id, "gave up"), 0);
	CHECK_INT(store_health(&s, &h), 0);
	CHECK_INT(h.jobs_dead, 1);
	CHECK_INT(store_job_revive(&s, j.id, now), 0);
	CHECK_INT(store_job_revive(&s, j.id, now), STORE_NOTFOUND);
	store_job_release(&j);
	/* Waiting (link busy) gives the lease's attempt back. */
	CHECK_INT(store_job_lease(&s, now + 1, 60, &j), 0);
	CHECK_INT(j.attempts, 1);
	CHECK_INT(store_job_wait(&s, j.id, now + 1, "link busy"), 0);
	store_job_release(&j);
	CHECK_INT(store_job_lease(&s, now + 1, 60, &j), 0);
	CHECK_INT(j.attempts, 1);
	CHECK_INT(store_job_wait(&s, j.id, now + 1, "link busy"), 0);
	store_job_release(&j);
	/* An expired lease is taken again (its holder died). */
	CHECK_INT(store_job_lease(&s, now + 1, 1, &j), 0);
	store_job_release(&j);
	CHECK_INT(store_job_lease(&s, now + 3, 60, &j), 0);
	CHECK_INT(store_job_done(&s, j.id), 0);
	store_job_release(&j);
	CHECK_INT(store_health(&s, &h), 0);
	CHECK_INT(h.jobs_ready + h.jobs_leased + h.jobs_dead, 0);

	CHECK_INT(store_delivery_known(&s, id, "gitlab", "k1"), 0);
	CHECK_INT(store_delivery_seen(&s, id, "gitlab", "k1", now), 0);
	CHECK_INT(store_delivery_known(&s, id, "gitlab", "k1"), 1);
	CHECK_INT(store_delivery_known(&s, id, "productboard", "k1"), 0);
	CHECK_INT(store_delivery_seen(&s, id, "gitlab", "k1", now), STORE_EXISTS);
	CHECK_INT(store_delivery_seen(&s, id, "productboard", "k1", now), 0);
	/* Pruning: strictly older than the horizon, the oldest first. */
	CHECK_INT(store_delivery_seen(&s, id, "gitlab", "old1", now - 300), 0);
	CHECK_INT(store_delivery_seen(&s, id, "gitlab", "old2", now - 200), 0);
	CHECK_INT(store_delivery_seen(&s, id, "gitlab", "edge", now - 100), 0);
	CHECK_INT(store_delivery_prune(&s, now - 100, 1), 1);
	CHECK_INT(store_delivery_known(&s, id, "gitlab", "old1"), 0);
	CHECK_INT(store_delivery_known(&s, id, "gitlab", "old2"), 1);
	CHECK_INT(store_delivery_prune(&s, now - 100, 5), 1);
	CHECK_INT(store_delivery_known(&s, id, "gitlab", "old2"), 0);
	CHECK_INT(store_delivery_known(&s, id, "gitlab", "edge"), 1);
	CHECK_INT(store_delivery_prune(&s, now - 100, 5), 0);
	CHECK_INT(store_delivery_known(&s, id, "gitlab", "k1"), 1);
	CHECK_INT(store_delivery_prune(&s, now + 1, 5), 3);
	CHECK_INT(store_delivery_known(&s, id, "gitlab", "k1"), 0);
	CHECK_INT(store_delivery_seen(&s, id, "gitlab", "k1", now), 0);

	CHECK_INT(store_pause_set(&s, "tokhash", now + 2), 0);
	CHECK_INT(store_pause_set(&s, "tokhash", now + 1), 0);	/* keeps max */
	CHECK_INT(store_pause_get(&s, "tokhash", &until), 0);
	CHECK(until > now + 1.5);

	/* Deleting the integration removes its links and jobs. */
	CHECK_INT(store_job_enqueue(&s, id, "push", "feat-2", "{}", now), 0);
	CHECK_INT(store_integration_delete(&s, id), 0);
	CHECK_INT(store_health(&s, &h), 0);
	CHECK_INT(h.links + h.jobs_ready, 0);
	CHECK_INT(store_integration_delete(&s, id), STORE_NOTFOUND);
	store_close(&s);
	return t_done();
}
