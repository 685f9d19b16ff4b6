/*
 * sync.pml: pbsync's sync protocol, for spin.
 *
 * One link: a Productboard feature and its tracker issue, one field of
 * each (name, description and status are decided alone, each by the same
 * rule: plan_fields).  A value is a version number: every person's edit
 * makes the next one (nextv), so a larger value is a later change.  The
 * actors of DESIGN §3, as few processes as keep them apart:
 *
 *   World()		everything outside the worker, one atomic step
 *			each: people editing a side (mem_pb_edit,
 *			mem_tracker_edit); the services' webhook deliveries
 *			(duplicated, reordered, delayed, dropped, resent
 *			when not acked) each handled by pbsync-pbhook /
 *			pbsync-glhook (dedupe, persist, ack) in the same
 *			step; time passing (leases, locks and deadlines
 *			run out); the Crasher's kill order; the periodic
 *			reconcile, for dropped deliveries
 *   Worker(host)	pbsyncctl worker on one or two hosts: lease, lock,
 *			sync rounds, settle; killed at any step
 *   Monitor()		the end-state checks, once nothing can move
 *
 * Each statement names the function of src/ it stands for.  Mutants
 * (deliberate protocol bugs) are switched on by -D; model/check expects
 * spin to find a counterexample for each.
 */

#ifndef EDITS
#define EDITS		2	/* people's edits on each side */
#endif
#ifndef EDITS_PB
#define EDITS_PB	EDITS
#endif
#ifndef EDITS_TR
#define EDITS_TR	EDITS
#endif
#define edits_max(side)	(side == PB -> EDITS_PB : EDITS_TR)
#ifndef DUPS
#define DUPS		1	/* deliveries sent again after an ack */
#endif
#ifndef DROPS
#define DROPS		1	/* deliveries never sent */
#endif
#ifndef CRASHES
#define CRASHES		1	/* workers killed (and the inbound's deaths) */
#endif
#ifndef FAULTS
#define FAULTS		1	/* upstream calls that fail (503, 429, lost answer) */
#endif
#ifndef EXPIRES
#define EXPIRES		1	/* live holders whose deadline runs out */
#endif
#ifndef ROUNDS
#define ROUNDS		2	/* sync_link's rounds (3 in sync.c) */
#endif

#define PB		0
#define TR		1
#define NONE		255
#ifndef HOSTS
#define HOSTS		2	/* hosts with a worker: 1 or 2 */
#endif
#define HOLDERS		4	/* host * 2 + incarnation: a killed worker restarts once */
#define NJOBS		3	/* job rows of the link: one ready, two leased */
#define MAXKEY		16	/* delivery keys */
#define POOL		4	/* deliveries a sender holds */

/* Job row states (store_job.c). */
#define J_FREE		0
#define J_READY		1
#define J_LEASED	2

/* What a round decides for the field (sync.c: decide). */
#define D_NONE		0
#define D_TR		1	/* write the tracker */
#define D_PB		2	/* write Productboard */

/* -- the world: both services ------------------------------------------ */

byte	val[2];			/* the field on each side */
byte	upd[2];			/* its updated_at */
byte	clock;			/* the services' time, for updated_at */
byte	nextv;			/* the last version a person made */
byte	edits[2];

/* -- the store ---------------------------------------------------------- */

byte	snap;			/* link.snap_*: the value last synced */
byte	pend_on = NONE;		/* link.pending: the side written, or NONE */
byte	pend_v;			/* and the value written there */
byte	lock = NONE;		/* link.lock_until: its taker (a ghost: the row keeps a time) */
byte	jstate[NJOBS];		/* job.state */
byte	jholder[NJOBS];		/* the holder of a leased row (its lease_until, in effect) */
byte	jid[NJOBS];		/* job.id of the row in the slot */
byte	jids;			/* scratch for newid */
bit	seen[MAXKEY];		/* delivery: the dedupe keys recorded */

/* -- time ---------------------------------------------------------------- */

bit	dl[HOLDERS];		/* a holder's deadline (lease, lock, http) has passed */
bit	gone[HOLDERS];		/* the holder's process was killed */
byte	inc[HOSTS];		/* a host's worker incarnation */
bit	crash[HOSTS];		/* the Crasher's order to kill a host's worker */
byte	crashes, faults, expires;

/* -- deliveries ---------------------------------------------------------- */

byte	pool[2 * POOL];		/* keys a sender still has to deliver, per side */
byte	npool[2];
byte	nkeys;			/* keys made so far */
byte	dups, drops, recon;

/* -- ghosts for the properties -------------------------------------------- */

byte	kv[MAXKEY];		/* the value a person's change made (0: pbsync's write) */
bit	acked[MAXKEY];		/* pbsync answered 2xx for the key */
byte	acked_max;		/* the latest person's change acknowledged */
bit	copied[2 * 16];		/* value v was written to side s (s * 16 + v) */
byte	window[2];		/* rounds between their re-read of a side and its write */
byte	runs[HOLDERS];		/* job row + 1 a holder runs */
bit	inround[HOLDERS];	/* the holder is inside a locked round */

#define other(s)	(1 - (s))
#define live(h)		(!dl[h] && !gone[h])
#ifdef LEASE_NO_DEADLINE_CHECK
/* mutant: a leased row is taken again without looking at its deadline */
#define takeable(i)	(jstate[i] != J_FREE)
#else
#define takeable(i)	(jstate[i] == J_READY || \
			(jstate[i] == J_LEASED && !live(jholder[i])))
#endif
/* A holder still holds a lease or the lock: its time can run out. */
#define holds(h)	(lock == h || (jstate[0] == J_LEASED && jholder[0] == h) || \
			(jstate[1] == J_LEASED && jholder[1] == h) || \
			(jstate[2] == J_LEASED && jholder[2] == h))
#define expirable(h)	(!dl[h] && (gone[h] || expires < EXPIRES) && holds(h))

/* A side changed: the service sends a delivery for it (world_send). */
inline send(side, v)
{
	assert(nkeys < MAXKEY && npool[side] < POOL);
	pool[side * POOL + npool[side]] = nkeys;
	kv[nkeys] = v;
	npool[side]++;
	nkeys++
}

/* A person edits one side: a new version, sent as a delivery. */
inline edit(side)
{
	/* mem_pb_edit / mem_tracker_edit */
	nextv++;
	val[side] = nextv;
	clock++;
	upd[side] = clock;
	edits[side]++;
	printf("EV edit %d %d\n", side, nextv);
	send(side, nextv)
}

/* Takes pool entry i of side out, keeping the order of the rest. */
inline take_out(side, i)
{
	j = i;
	do
	:: j + 1 < npool[side] ->
		pool[side * POOL + j] = pool[side * POOL + j + 1];
		j++
	:: else -> break
	od;
	npool[side]--
}

/*
 * A new row's id: the smallest no row and no worker holds (ids are only
 * told apart, so the model reuses them instead of counting).
 */
#define idused(n)	((jstate[0] != J_FREE && jid[0] == n) || \
			(jstate[1] != J_FREE && jid[1] == n) || \
			(jstate[2] != J_FREE && jid[2] == n) || runs[0] == n || \
			runs[1] == n || runs[2] == n || runs[3] == n)
inline newid(slot)
{
	jids = 1;
	do
	:: idused(jids) -> jids++
	:: else -> break
	od;
	jid[slot] = jids;
	jids = 0
}

/* Enqueues the link's job; a ready one absorbs it (store_job_enqueue). */
inline enqueue()
{
	if
	:: jstate[0] == J_READY || jstate[1] == J_READY || jstate[2] == J_READY
	:: else ->
		if
		:: jstate[0] == J_FREE -> jstate[0] = J_READY; newid(0)
		:: jstate[0] != J_FREE && jstate[1] == J_FREE ->
			jstate[1] = J_READY; newid(1)
		:: jstate[0] != J_FREE && jstate[1] != J_FREE ->
			assert(jstate[2] == J_FREE);
			jstate[2] = J_READY; newid(2)
		fi
	fi
}

/* pbsync answered 2xx for key k (hook.c: answer(rs, ok)). */
inline ack(k)
{
	acked[k] = 1;
	acked_max = (kv[k] > acked_max -> kv[k] : acked_max)
}

/*
 * The sender is done with pool entry i once pbsync answered 2xx; it
 * sends it once more after an ack a bounded number of times (a lost
 * answer, a resend by hand).
 */
inline answered(side, i)
{
	if
	:: dups < DUPS -> dups++	/* sent again later */
	:: true -> take_out(side, i)
	fi
}

/*
 * One delivery of key k (pool entry i of side), handled by
 * pbsync-pbhook / pbsync-glhook (hook.c: hook_pb_handle,
 * hook_tracker_handle, persist): the key looked up, then the key and the
 * job in one commit, then 2xx.  The process may die after the commit,
 * before the answer: the sender sends again.  (Productboard's deliveries
 * carry no key pbsync can use: their duplicates coalesce into one job,
 * which re-reads the feature.  The model gives every delivery a key.)
 * The sender waits for the answer and nothing of pbsync's sees the
 * commit before the answer but the worker, which cannot tell the two
 * orders apart: commit and answer are one step.
 */
inline inbound(side, i, k)
{
	before = acked[k];
#ifdef ACK_BEFORE_PERSIST
	/* mutant: the answer goes before the commit; dies between */
	ack(k);
	if
	:: crashes < CRASHES -> crashes++; answered(side, i); goto delivered
	:: true
	fi;
#endif
#ifndef NO_DEDUPE
	/*
	 * hook.c: persist: store_delivery_known, then delivery_rows in one
	 * transaction (store_tx), which finds a key recorded meanwhile
	 * (STORE_EXISTS): either way a duplicate, answered 2xx
	 */
	if
	:: seen[k] -> ack(k); answered(side, i); goto delivered
	:: else
	fi;
#endif
	/* (f) an acknowledged delivery makes no second job */
	assert(!before);
	seen[k] = 1;			/* store_delivery_seen */
	enqueue();			/* store_job_enqueue */
	if
	:: crashes < CRASHES -> crashes++	/* died before answering: resent */
	:: true -> ack(k); answered(side, i)	/* hook.c: answer(rs, ok) */
	fi;
delivered:
	skip
}

/*
 * Everything but the workers, one atomic step at a time:
 *  - a person edits a side, not between pbsync's re-read of the side and
 *    its write (README "Limits": neither API has conditional writes);
 *  - a service's webhook sender sends any waiting delivery, in any
 *    order, at any time, or drops it for good (world_send), and pbsync's
 *    inbound program handles it (inbound);
 *  - time passes: the lease, the link lock and the http deadline of a
 *    holder run out together (queue.c: job_lease_s for all three); a
 *    killed holder's always do, a live holder's a bounded number of times;
 *  - the Crasher orders a host's worker killed, at its next step;
 *  - the periodic reconcile (sync.c: reconcile): a sync job after a drop.
 */
proctype World()
{
	byte	side, i, j, k, h;
	bit	before;		/* acknowledged by an earlier delivery */

end:	do
	:: atomic {
		edits[PB] < EDITS_PB && window[PB] == 0 -> edit(PB)
	   }
	:: atomic {
		edits[TR] < EDITS_TR && window[TR] == 0 -> edit(TR)
	   }
	:: atomic {
		npool[PB] + npool[TR] > 0 ->
		if
		:: npool[PB] > 0 -> side = PB
		:: npool[TR] > 0 -> side = TR
		fi;
		i = 0;
		do	/* any of them: reordered, delayed */
		:: i + 1 < npool[side] -> i++
		:: break
		od;
		k = pool[side * POOL + i];
		if
		:: drops < DROPS ->
			drops++;
			printf("EV drop %d %d\n", side, k);
			take_out(side, i)
		:: true ->	/* the POST */
			inbound(side, i, k);
			printf("EV delivered %d %d\n", side, k)
		fi;
		side = 0; i = 0; j = 0; k = 0; before = 0
	   }
	:: atomic {
		/* a holder's deadline runs out (queue.c: job_lease_s) */
		if
		:: expirable(0) -> h = 0
		:: expirable(1) -> h = 1
		:: expirable(2) -> h = 2
		:: expirable(3) -> h = 3
		fi;
		if
		:: !gone[h] -> expires++
		:: else
		fi;
		printf("EV expire %d\n", h);
		dl[h] = 1;
		h = 0
	   }
	:: atomic {
		/* the Crasher: at most once, HOLDERS counts two incarnations */
		crashes < CRASHES ->
		crashes++;
		if
		:: crash[0] = 1
		:: HOSTS > 1 -> crash[1] = 1
		fi
	   }
	:: atomic {
		/* sync.c: reconcile */
		recon < drops -> recon++; printf("EV reconcile\n"); enqueue()
	   }
	od
}

/*
 * An upstream call: refused when the holder's deadline has passed
 * (http.c: http_set_deadline), or failing (a 503, a 429 and the pause it
 * shares, a timeout): before the service acts (fail) or after it
 * (lost: the service did it, the answer never came).
 */
#define CALL_OK		0
#define CALL_FAIL	1
#define CALL_LOST	2
inline call(res)
{
	if
	:: dl[me] -> res = CALL_FAIL
	:: else ->
		if
		:: faults < FAULTS -> faults++; res = CALL_FAIL
		:: faults < FAULTS -> faults++; res = CALL_LOST
		:: res = CALL_OK
		fi
	fi
}

/*
 * A write of value v to side by pbsync: (b) no echo: the value is a
 * person's change on the other side, and no side gets a change twice.
 */
inline write_side(side, v)
{
	atomic {
		assert(v != 0 && v <= nextv);
		assert(copied[side * 16 + v] == 0);
		copied[side * 16 + v] = 1;
		assert(val[side] != v);
		printf("EV write %d %d\n", side, v);
		val[side] = v;
		clock++;
		upd[side] = clock;
		send(side, 0)		/* its delivery: an echo */
	}
}

/* A worker keeps nothing between jobs (and a killed one nothing at all). */
inline forget()
{
	lsnap = 0; lpon = 0; lpv = 0; fpb = 0; ftr = 0; upb = 0; utr = 0;
	r = 0; round = 0; res = 0; d = 0; h = 0; again = 0; rid = 0;
	ws = 0; wv = 0; inwin = 0
}

/*
 * Whether the link's lock and a job row are still the holder's: the
 * round's writes (store_link_set_pending, store_link_set_snapshot) and
 * its unlock (store_link_unlock) take effect only while lock_until is the
 * time the round set; a settle (store_job_done, _retry, _wait, _bury) only
 * while lease_until is the lease's own.  The mutants do each by id,
 * whoever holds the lock or the row now (a holder past its deadline too).
 */
#ifdef SETTLE_ANY_HOLDER
#define owned(r)	true
#else
#define owned(r)	(jholder[r] == me)
#endif
#ifdef SAVE_PAST_DEADLINE
#define mine		true
#else
#define mine		(lock == me)
#endif
inline unlock()
{
	/* sync.c: locked: store_link_unlock (while the lock is its own) */
	if
#ifdef UNLOCK_ANY_HOLDER
	:: true -> lock = NONE
#else
	:: lock == me -> lock = NONE
	:: else
#endif
	fi;
	inround[me] = 0
}

/*
 * queue.c: settle: store_job_retry, store_job_wait (reschedule), while
 * the lease is its own (a coalesced ready row takes over: the leased one
 * goes)
 */
inline settle_retry()
{
	if
	:: jid[r] == rid && jstate[r] == J_LEASED && owned(r) &&
	    (jstate[0] == J_READY || jstate[1] == J_READY ||
	    jstate[2] == J_READY) -> jstate[r] = J_FREE
	:: jid[r] == rid && jstate[r] == J_LEASED && owned(r) &&
	    !(jstate[0] == J_READY || jstate[1] == J_READY ||
	    jstate[2] == J_READY) -> jstate[r] = J_READY
	:: else		/* gone: a newer job carries on */
	fi;
	runs[me] = 0;
	printf("EV retry %d %d\n", me, rid);
	forget()
}

/*
 * pbsyncctl worker on one host (queue.c: queue_run_one), running the
 * link's jobs (sync.c: sync_job).  Killed at any step by the Crasher: its
 * lease and its link lock stay until time passes.
 */
proctype Worker(byte host)
{
	byte	me, r, rid, round, res, d, h, ws, wv;
	bit	inwin;		/* this round holds a window open */
	byte	lsnap, lpon, lpv;	/* the link as read (struct store_link) */
	byte	fpb, ftr, upb, utr;	/* both sides as fetched (struct sides) */
	bit	again;

restart:
	me = host * 2 + inc[host];
	{
end:	do
	:: atomic {
		/* queue.c: queue_run_one: store_job_lease (any due row) */
		if
		:: takeable(0) -> r = 0
		:: takeable(1) -> r = 1
		:: takeable(2) -> r = 2
		fi;
		/* (e) a job never runs on two hosts with live deadlines */
		h = 0;
		do
		:: h < HOLDERS -> assert(runs[h] != jid[r] || !live(h)); h++
		:: else -> break
		od;
		jstate[r] = J_LEASED;
		jholder[r] = me;
		dl[me] = 0;
		rid = jid[r];
		runs[me] = rid;
		printf("EV lease %d %d\n", me, rid);
		h = 0
	   };
#ifdef READ_LINK_BEFORE_LOCK
		/* mutant: sync_job's store_link_get, before the lock, kept */
		atomic { lsnap = snap; lpon = pend_on; lpv = pend_v };
#endif
		/* sync.c: locked: store_link_lock */
		atomic {
			if
			:: lock == NONE || !live(lock) ->
				lock = me;
				h = 0;
				do
				:: h < HOLDERS -> assert(h == me ||
				    !inround[h] || !live(h)); h++
				:: else -> break
				od;
				inround[me] = 1;
#ifndef READ_LINK_BEFORE_LOCK
				/* locked: the link read again under its lock */
				lsnap = snap; lpon = pend_on; lpv = pend_v
#endif
			:: else -> goto wait	/* "link busy": QUEUE_WAIT */
			fi
		};
		round = 0;
sync_once:
		again = 0;
		/* sync.c: fetch: pb_feature_get */
		atomic {
			call(res);
			if
			:: res == CALL_OK -> fpb = val[PB]; upb = upd[PB]
			:: else -> goto failed
			fi
		};
		/* sync.c: fetch: ops->get, then what the round decides from it */
		atomic {
		call(res);
		if
		:: res == CALL_OK -> ftr = val[TR]; utr = upd[TR]
		:: else -> goto failed
		fi;
		/* sync.c: adopt_pending: a cut round's write that landed */
		if
		:: lpon == TR && ftr == lpv -> lsnap = lpv
		:: lpon == PB && fpb == lpv -> lsnap = lpv
		:: else
		fi;
		/* sync.c: plan_fields, decide, pb_wins ("latest") */
		if
		:: fpb == ftr -> d = D_NONE
#ifdef MERGE_AGAINST_CURRENT
		/* mutant: both changed when they differ, the later wins */
		:: fpb != ftr -> d = (upb >= utr -> D_TR : D_PB)
#else
		:: fpb != ftr && fpb == lsnap && ftr == lsnap -> d = D_NONE
		:: fpb != ftr && fpb != lsnap && ftr != lsnap ->
			d = (upb >= utr -> D_TR : D_PB)	/* a conflict */
		:: fpb != ftr && fpb != lsnap && ftr == lsnap -> d = D_TR
		:: fpb != ftr && fpb == lsnap && ftr != lsnap -> d = D_PB
#endif
		fi;
		if
		:: d == D_TR -> ws = TR; wv = fpb
		:: d == D_PB -> ws = PB; wv = ftr
		:: else -> goto save
		fi
		};
#ifndef NO_MOVED_CHECK
		/* sync.c: moved(): the side about to be written, read again */
		atomic {
			call(res);
			if
			:: res == CALL_OK && (val[ws] != (ws == PB -> fpb : ftr) ||
			    upd[ws] != (ws == PB -> upb : utr)) -> again = 1
			:: res == CALL_OK && !(val[ws] != (ws == PB -> fpb : ftr) ||
			    upd[ws] != (ws == PB -> upb : utr)) ->
				window[ws]++; inwin = 1
			:: else -> goto failed
			fi;
			if
			:: again -> goto round_end
			:: else
			fi
		};
#endif
#ifndef NO_PENDING
		/* sync.c: note_pending */
		atomic {
			if
			:: mine -> pend_on = ws; pend_v = wv
			:: else
			fi
		};
#endif
		/* sync.c: write_tracker (ops->edit), write_pb (pb_feature_patch) */
		atomic {
			call(res);
			if
			:: res != CALL_FAIL -> write_side(ws, wv)
			:: else
			fi;
			window[ws] = window[ws] - inwin;
			inwin = 0;
			if
			:: res != CALL_OK -> goto failed	/* an answer lost: cut short */
			:: else -> fpb = wv	/* save() takes s->f as written */
			fi
		};
save:
#ifndef NO_SNAPSHOT_UPDATE
		/* sync.c: save: store_link_set_snapshot (pending cleared) */
		atomic {
			if
			:: mine -> snap = fpb; pend_on = NONE
			:: else
			fi
		};
#else
		/* mutant: the snapshot is saved only when nothing was written */
		atomic { if :: d == D_NONE -> snap = fpb :: else fi; pend_on = NONE };
#endif
round_end:
		round++;
		if
		:: again && round < ROUNDS -> goto sync_once
		:: again -> goto failed		/* "edits keep arriving": retry */
		:: else
		fi;
		/*
		 * sync.c: locked: store_link_unlock, then queue.c: settle:
		 * store_job_done (while the lease is its own): two transactions
		 * with nothing of this worker's between them, one step
		 */
		atomic {
			unlock();
			if
			:: jid[r] == rid && jstate[r] != J_FREE && owned(r) ->
				jstate[r] = J_FREE
			:: else
			fi;
			runs[me] = 0;
			printf("EV done %d %d\n", me, rid);
			forget()
		};
		goto next;
failed:
		/* sync.c: locked: store_link_unlock, then settle as below */
		atomic {
			unlock();
			settle_retry()
		};
		goto next;
wait:
		/* queue.c: settle: store_job_wait */
		atomic { settle_retry() };
next:		skip
	od
	} unless {
		crash[host] ->
		atomic {
			crash[host] = 0;
			gone[me] = 1;
			runs[me] = 0;
			inround[me] = 0;
			printf("EV crash %d\n", me);
			inc[host]++;
			window[ws] = window[ws] - inwin;
			forget()
		}
	};
	goto restart
}

/*
 * Once nothing can move (every person done, every delivery answered or
 * dropped, no job left):
 *   (a) both sides hold the same value and the snapshot is that value;
 *   (c) no acknowledged change is lost: the value both hold is the
 *       latest change acknowledged, or a later one.
 */
proctype Monitor()
{
	timeout ->
	assert(val[PB] == val[TR] && snap == val[PB]);
	assert(val[PB] >= acked_max)
}

/*
 * (a) after the last edit, with weak fairness, both sides and the
 * snapshot end equal and stay so.
 */
ltl converge { <>[] (val[PB] == val[TR] && snap == val[PB]) }

init
{
	atomic {
		jholder[0] = NONE; jholder[1] = NONE; jholder[2] = NONE;
		run World();
		run Worker(0);
		if
		:: HOSTS > 1 -> run Worker(1)
		:: else
		fi;
		run Monitor()
	}
}
