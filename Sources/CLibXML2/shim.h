/* Debian builds libxml2 with ICU; its headers then clash with Foundation's ICU module.
   We never touch the encoding handler's ICU fields, so hide them. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
