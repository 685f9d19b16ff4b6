/*
 * ctl: pbsyncctl's commands as one table, and its help.
 *
 * A row is both what runs and what "pbsyncctl --help", "pbsyncctl help
 * COMMAND" and "pbsyncctl COMMAND --help" say about it, so a command
 * cannot be added without its help; tests/ops/test_ops.py holds that help
 * to pbsyncctl(8) both ways.  The help reads no configuration: it works
 * before pbsync is set up.
 */
#ifndef PBSYNC_CTL_H
#define PBSYNC_CTL_H

struct app;

/* What ctl_help returns when the command line asks for no help. */
#define CTL_NOHELP	(-1)
/* What a command returns when its arguments are wrong: usage, exit 2. */
#define CTL_USAGE	(-2)

struct ctl_opt {
	const char	*flag;		/* "--name NAME" */
	const char	*text;
};

struct ctl_cmd {
	const char	*words;		/* "integration add" */
	const char	*args;		/* after the words, as in pbsyncctl(8) */
	const char	*summary;	/* one line, for the list */
	const char	*about;		/* more for "help COMMAND", or NULL */
	const struct ctl_opt *opts;	/* ends with a NULL flag; or NULL */
	int		 min, max;	/* arguments after the words; max -1: any */
	int		 app;		/* opens the configuration and store */
	/*
	 * Runs with the arguments after the words (NULL-terminated) and
	 * the app when app is set, else NULL: the exit status, or
	 * CTL_USAGE.
	 */
	int		(*run)(struct app *, char *argv[]);
};

/*
 * "--help", "-h", "help [COMMAND]" or "COMMAND ... --help": prints the
 * list or the command's help to stdout and returns 0, or the usage to
 * stderr and 2 for a command it does not know; CTL_NOHELP when argv asks
 * for no help.  tab ends with a row whose words are NULL.
 */
int	 ctl_help(const struct ctl_cmd *tab, int argc, char *argv[]);
/*
 * The row whose words begin argv, the longest such, with *nwords its
 * word count; NULL when none does.
 */
const struct ctl_cmd *ctl_find(const struct ctl_cmd *tab, int argc,
	    char *argv[], int *nwords);
/* 1 if n arguments after the words suit the row. */
int	 ctl_arity_ok(const struct ctl_cmd *, int n);
/*
 * Prints the usage to stderr: of the commands argv[0] begins when it
 * names any, else of all; returns 2, the exit status of a wrong command.
 */
int	 ctl_usage(const struct ctl_cmd *tab, int argc, char *argv[]);

#endif
