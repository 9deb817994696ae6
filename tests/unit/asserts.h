/*
 * asserts.h - the assertions the unit tests want and cmocka lacks.
 * Include after <cmocka.h>.
 */
#ifndef GH_TEST_ASSERTS_H
#define GH_TEST_ASSERTS_H

#include <string.h>

/* Fail the test unless the string hay holds needle. */
#define assert_contains(hay, needle)                                                   \
    do {                                                                               \
        const char *hay_ = (hay), *needle_ = (needle);                                 \
        if (!hay_ || !strstr(hay_, needle_))                                           \
            fail_msg("\"%s\" does not contain \"%s\"", hay_ ? hay_ : "(null)", needle_); \
    } while (0)

#endif
