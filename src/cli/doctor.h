/*
 * doctor: "pbsyncctl doctor [ID]", what an admin runs when something is
 * off.
 *
 * Checks the configuration, the key file, the database and, for every
 * integration (or the one named), that the key opens its sealed tokens,
 * that both APIs answer its tokens (Productboard's feature statuses, the
 * tracker's project through the backend's validation call), and that its
 * plugin integration, its Productboard webhook and its tracker webhook
 * are still registered upstream.  One line per check on stdout: "ok",
 * "warn" or "FAIL", the check, what it saw and, for a warning or a
 * failure, what to do; then the counts.  It never prints a token or a
 * secret, only a token's last four characters, and it creates nothing: a
 * missing database stays missing.
 */
#ifndef PBSYNC_DOCTOR_H
#define PBSYNC_DOCTOR_H

/* Runs the checks, of every integration or of id only: 0 when none failed
 * (warnings allowed), else 1. */
int	 doctor_run(const char *id);

#endif
