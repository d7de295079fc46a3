#include "CIDNShims.h"
#include <stringprep.h>

int shim_nodeprep(char *buffer, size_t capacity) {
    return stringprep(buffer, capacity, STRINGPREP_NO_UNASSIGNED, stringprep_xmpp_nodeprep);
}

int shim_saslprep(char *buffer, size_t capacity) {
    return stringprep(buffer, capacity, STRINGPREP_NO_UNASSIGNED, stringprep_saslprep);
}
