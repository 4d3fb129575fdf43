// placeholder: being written
#include "match/matcher.h"
