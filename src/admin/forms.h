/*
 * forms: the create and edit forms of an integration, with the status
 * mapping and the tokens kept sealed between two submissions.
 */
#ifndef PBSYNC_FORMS_H
#define PBSYNC_FORMS_H

#include "admin/view.h"

void	 forms_create(struct view *);
void	 forms_edit(struct view *);

#endif
