#include <stringprep.h>
#include <idna.h>
