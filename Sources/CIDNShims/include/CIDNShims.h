/* libidn's stringprep profiles are extern arrays Swift cannot name. Seen only by the Crypto module. */
#ifndef SWITCHBOARD_CIDNSHIMS_H
#define SWITCHBOARD_CIDNSHIMS_H

#include <stddef.h>

/// RFC 3920 nodeprep and RFC 4013 SASLprep (libidn's profiles are extern arrays Swift cannot name).
/// Both prepare `buffer` in place (NUL-terminated, `capacity` bytes in all), refuse unassigned code
/// points (the strings are stored), and return libidn's Stringprep_rc (0 = success).
int shim_nodeprep(char *buffer, size_t capacity);
int shim_saslprep(char *buffer, size_t capacity);

#endif
