#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flows/conn.h"

#define MAX_LABEL	20
#define MAX_TOOLTIP	50
#define MAX_URL		1000
#define MAX_MESSAGE	255

char *
conn_cut(const char *s, size_t max)
{
	size_t	 i = 0, chars = 0;
	char	*out;

	while (s[i] != '\0' && chars < max) {
		i++;
		while ((s[i] & 0xc0) == 0x80)	/* continuation bytes */
			i++;
		chars++;
	}
	if ((out = malloc(i + 1)) == NULL)
		return NULL;
	memcpy(out, s, i);
	out[i] = '\0';
	return out;
}

/* Adds key: s cut to max characters, or fallback when s is empty. */
static void
add_cut(cJSON *c, const char *key, const char *s, size_t max,
    const char *fallback)
{
	char	*v = conn_cut(s != NULL && *s != '\0' ? s : fallback, max);

	cJSON_AddStringToObject(c, key, v != NULL ? v : fallback);
	free(v);
}

cJSON *
conn_connected(const char *key, const char *title, const char *state,
    const char *cls, const char *url)
{
	cJSON	*c = cJSON_CreateObject();
	int	 closed, word;

	if (c == NULL)
		return NULL;
	if (state == NULL)
		state = "opened";
	closed = strcmp(cls != NULL ? cls : state, "closed") == 0;
	word = strcmp(state, "opened") != 0 && strcmp(state, "closed") != 0;
	if (key == NULL || *key == '\0')
		key = "issue";
	cJSON_AddStringToObject(c, "state", "connected");
	if (word)
		add_cut(c, "label", state, MAX_LABEL, "Open");
	else
		cJSON_AddStringToObject(c, "label", closed ? "Closed" :
		    "Open");
	add_cut(c, "hoverLabel", key, MAX_TOOLTIP, "issue");
	add_cut(c, "tooltip", title, MAX_TOOLTIP, key);
	cJSON_AddStringToObject(c, "color", closed ? "green" : "blue");
	/* Never empty: Productboard refuses a connection without a URL. */
	add_cut(c, "targetUrl", url, MAX_URL, "https://www.productboard.com");
	return c;
}

cJSON *
conn_from_issue(const struct tracker_issue *i)
{
	return conn_connected(i->key, i->title, i->state,
	    tracker_issue_class(i), i->web_url);
}

cJSON *
conn_error(const char *message)
{
	cJSON	*c = cJSON_CreateObject();

	if (c == NULL)
		return NULL;
	cJSON_AddStringToObject(c, "state", "error");
	add_cut(c, "message", message, MAX_MESSAGE, "pbsync failed");
	return c;
}

cJSON *
conn_simple(const char *state)
{
	cJSON	*c = cJSON_CreateObject();

	if (c != NULL)
		cJSON_AddStringToObject(c, "state", state);
	return c;
}

cJSON *
conn_reply(cJSON *c, int both)
{
	cJSON	*j, *d, *f;

	if (c == NULL || (j = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(c);
		return NULL;
	}
	d = cJSON_AddObjectToObject(j, "data");
	f = cJSON_AddObjectToObject(d, "fields");
	if (both)
		cJSON_AddItemToObject(d, "connection", cJSON_Duplicate(c, 1));
	cJSON_AddItemToObject(f, "connection", c);
	return j;
}
