#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/ctl.h"

/* The list's column of summaries, and the options' column of texts. */
#define SUMMARY_AT	32
#define OPTION_AT	26

/*
 * The number of words of row that begin argv (all of them, or 0): "links"
 * matches "links ID", "integration add" matches "integration add --name".
 */
static int
words_match(const struct ctl_cmd *row, int argc, char *argv[])
{
	const char	*w = row->words;
	size_t		 len;
	int		 n = 0;

	while (*w != '\0') {
		len = strcspn(w, " ");
		if (n >= argc || strlen(argv[n]) != len ||
		    strncmp(argv[n], w, len) != 0)
			return 0;
		n++;
		w += len;
		w += *w == ' ';
	}
	return n;
}

const struct ctl_cmd *
ctl_find(const struct ctl_cmd *tab, int argc, char *argv[], int *nwords)
{
	const struct ctl_cmd *best = NULL;
	int		 n;

	*nwords = 0;
	for (; tab->words != NULL; tab++)
		if ((n = words_match(tab, argc, argv)) > *nwords) {
			*nwords = n;
			best = tab;
		}
	return best;
}

int
ctl_arity_ok(const struct ctl_cmd *c, int n)
{
	return n >= c->min && (c->max < 0 || n <= c->max);
}

/* 1 if row belongs to group, its first word (NULL: every row does). */
static int
in_group(const struct ctl_cmd *row, const char *group)
{
	size_t	 len;

	if (group == NULL)
		return 1;
	len = strlen(group);
	return strncmp(row->words, group, len) == 0 &&
	    (row->words[len] == ' ' || row->words[len] == '\0');
}

/* 1 if word is the first word of a row: "integration", "links". */
static int
is_group(const struct ctl_cmd *tab, const char *word)
{
	for (; tab->words != NULL; tab++)
		if (in_group(tab, word))
			return 1;
	return 0;
}

/* "integration add --name NAME ...": the words and their arguments. */
static void
put_synopsis(FILE *f, const struct ctl_cmd *c)
{
	fprintf(f, "%s%s%s", c->words, *c->args != '\0' ? " " : "", c->args);
}

/* Text whose lines after the first start at column indent. */
static void
put_text(FILE *f, const char *s, int indent)
{
	for (; *s != '\0'; s++) {
		fputc(*s, f);
		if (*s == '\n')
			fprintf(f, "%*s", indent, "");
	}
	fputc('\n', f);
}

/* The commands of group (NULL: all), each with its summary. */
static void
put_list(FILE *f, const struct ctl_cmd *tab, const char *group)
{
	int	 len;

	fprintf(f, "usage: pbsyncctl %s [ARGUMENT ...]\n\nCommands:\n",
	    group != NULL ? group : "COMMAND");
	for (; tab->words != NULL; tab++) {
		if (!in_group(tab, group))
			continue;
		len = (int)(strlen(tab->words) + (*tab->args != '\0' ?
		    1 + strlen(tab->args) : 0));
		fputs("  ", f);
		put_synopsis(f, tab);
		if (len + 2 >= SUMMARY_AT)
			fprintf(f, "\n%*s", SUMMARY_AT, "");
		else
			fprintf(f, "%*s", SUMMARY_AT - 2 - len, "");
		put_text(f, tab->summary, SUMMARY_AT);
	}
	fputs("\n\"pbsyncctl help COMMAND\" or \"pbsyncctl COMMAND --help\": "
	    "a command's options.\nThe manual: pbsyncctl(8).\n", f);
}

/* One command: its synopsis, what it does and its options. */
static void
put_command(FILE *f, const struct ctl_cmd *c)
{
	const struct ctl_opt *o;
	int		 len;

	fputs("usage: pbsyncctl ", f);
	put_synopsis(f, c);
	fputs("\n\n", f);
	put_text(f, c->summary, 0);
	if (c->about != NULL) {
		fputc('\n', f);
		put_text(f, c->about, 0);
	}
	if (c->opts != NULL && c->opts->flag != NULL)
		fputs("\nOptions:\n", f);
	for (o = c->opts; o != NULL && o->flag != NULL; o++) {
		len = (int)strlen(o->flag);
		fprintf(f, "  %s", o->flag);
		if (len + 2 >= OPTION_AT)
			fprintf(f, "\n%*s", OPTION_AT, "");
		else
			fprintf(f, "%*s", OPTION_AT - 2 - len, "");
		put_text(f, o->text, OPTION_AT);
	}
}

/*
 * The help of the command that the words of argv name (a command, or a
 * group's list): 0, or the usage and 2 when they name none.
 */
static int
help_on(const struct ctl_cmd *tab, int argc, char *argv[])
{
	const struct ctl_cmd *c;
	int		 n;

	if ((c = ctl_find(tab, argc, argv, &n)) != NULL) {
		put_command(stdout, c);
		return 0;
	}
	if (argc > 0 && is_group(tab, argv[0])) {
		put_list(stdout, tab, argv[0]);
		return 0;
	}
	fprintf(stderr, "pbsyncctl: no command \"%s\"\n",
	    argc > 0 ? argv[0] : "");
	return ctl_usage(tab, 0, argv);
}

int
ctl_help(const struct ctl_cmd *tab, int argc, char *argv[])
{
	static char	 help[] = "help";
	char		*self[] = { help, NULL };
	int		 i;

	if (argc > 0 && (strcmp(argv[0], "help") == 0 ||
	    strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		if (argc == 1) {
			put_list(stdout, tab, NULL);
			return 0;
		}
		/* "help --help": the help of help. */
		if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
			return help_on(tab, 1, self);
		return help_on(tab, argc - 1, argv + 1);
	}
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0)
			return help_on(tab, i, argv);
	return CTL_NOHELP;
}

int
ctl_usage(const struct ctl_cmd *tab, int argc, char *argv[])
{
	const char	*group = argc > 0 && is_group(tab, argv[0]) ?
			    argv[0] : NULL;
	const char	*lead = "usage:";

	for (; tab->words != NULL; tab++) {
		if (!in_group(tab, group))
			continue;
		fprintf(stderr, "%-6s pbsyncctl ", lead);
		put_synopsis(stderr, tab);
		fputc('\n', stderr);
		lead = "";
	}
	fputs("(\"pbsyncctl help COMMAND\": a command's options; "
	    "pbsyncctl(8): the manual)\n", stderr);
	return 2;
}
