/*
 * common_passwords.h - the bundled list of common passwords, one per line,
 * compiled in from etc/common-passwords.txt (see Makefile.am).
 */
#ifndef GH_COMMON_PASSWORDS_H
#define GH_COMMON_PASSWORDS_H

extern const char gh_common_passwords[];

#endif
