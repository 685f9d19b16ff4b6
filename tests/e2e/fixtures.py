"""Shared set-up of the end-to-end suites: seeded doubles and an
integration created through pbsyncctl exactly as an admin would."""
import time

from harness import wait_for

PB_TOKEN = "pb-test-token-0123456789"
GL_TOKEN = "glpat-test-token-0123456789"
PROJECT = 1001


def seed(s):
    """A Productboard token, and the tracker's bot and human (GitLab:
    a maintainer and a developer on project grp/proj)."""
    s.pb.call("POST", "/_double/tokens", {"token": PB_TOKEN})
    s.tr.seed()


def create_integration(s, name="Team", extra=(), env=None):
    """Runs pbsyncctl integration add; returns (returncode, id, stderr)."""
    return s.tr.create_integration(name, extra, env)


def status_ids(s):
    """Productboard's statuses by name: {name: id}."""
    return {x["name"]: x["id"] for x in
            s.pb.call("GET", "/_double/state")["statuses"]}


def status_map(s):
    """Each Productboard status to an issue state and a label, and the
    issue states back to a status."""
    st = status_ids(s)
    return {"to_tracker": {
        st["New"]: {"state": "opened", "label": "status::new"},
        st["Planned"]: {"state": "opened", "label": "status::planned"},
        st["In Progress"]: {"state": "opened", "label": "status::doing"},
        st["Done"]: {"state": "closed", "label": "status::done"}},
        "to_productboard": {"opened": st["In Progress"],
                            "closed": st["Done"]}}


def plugin_id(s, iid):
    return s.sql("SELECT pb_plugin_id FROM integration WHERE id = ?", iid)[0][0]


def feature(s, name="Dark mode", description="<p>Let users switch to a "
            "<b>dark</b> theme.</p>", status="New"):
    f = s.pb.call("POST", "/_double/features",
                  {"name": name, "description": description,
                   "status": {"name": status}})
    return f["data"]["id"] if "data" in f else f["id"]


def click(s, pid, fid, trigger="button.push", user=None):
    return s.pb.call("POST", "/_double/plugin-integrations/%s/trigger" % pid,
                     {"entityId": fid, "trigger": trigger,
                      "user": user or {"name": "Jane PM",
                                       "email": "jane@example.com"}})


def connection(s, pid, fid):
    """The connection state Productboard holds for the feature, shaped as
    GET /v2/plugin-integrations/{id}/connections/{entityId} answers it."""
    c = s.pb.call("GET", "/_double/state")["connections"].get(
        "%s/%s" % (pid, fid), {"state": "initial"})
    return {"data": {"fields": {"connection": c}}}


def issues(s):
    st = s.gl.call("GET", "/_double/state")
    out = []
    for key in ("issues",):
        v = st.get(key, [])
        out.extend(v.values() if isinstance(v, dict) else v)
    return out


def idle(s, timeout=20, settled=False):
    """Waits until both doubles delivered everything and no job is due;
    with settled, until no job is waiting at all (one put off by a busy
    link would otherwise run after the caller's next step)."""
    def quiet():
        for d in (s.pb, s.td):
            d.call("POST", "/_double/wait", {"deliveries_idle": True,
                                             "timeout": 5})
        # The time comes from here: unixepoch('subsec') needs SQLite 3.42.
        horizon = float("inf") if settled else time.time() + 0.5
        n = s.sql("SELECT count(*) FROM job WHERE state != 'dead' AND"
                  " run_at <= ?", horizon)[0][0]
        return n == 0
    ok = wait_for(quiet, timeout, 0.2)
    time.sleep(0.3)
    return ok and quiet()
