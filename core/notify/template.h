/*
 * template.h - the mail templates: `{{name}}` placeholders filled from a
 * list of variables. In HTML every value is escaped (& < > " '), so a
 * user's name cannot become markup; text gets the value as it is.
 */
#ifndef GH_TEMPLATE_H
#define GH_TEMPLATE_H

#include <stddef.h>

typedef struct gh_tvar {
    const char *name;
    const char *value; /* NULL renders as "" */
} gh_tvar;

/* src (len bytes) with each {{ name }} (spaces allowed inside the braces)
 * replaced; an unknown name renders as "", text that is not a placeholder
 * is copied. Returns malloc'd text, or NULL when out of memory. */
char *template_render(const char *src, size_t len, const gh_tvar *vars, size_t nvars, int html);

/* One message's templates: `<dir>/<name>.txt` starts with a line
 * "Subject: ..." and a blank line, then the text; `<dir>/<name>.html` is
 * optional. */
typedef struct gh_mail_template {
    char *subject, *text, *html; /* html NULL: text only */
} gh_mail_template;

/* 0, or -1 with err naming the file and the problem. */
int template_load(gh_mail_template *t, const char *dir, const char *name, char *err,
                  size_t errlen);
void template_clear(gh_mail_template *t);

#endif
