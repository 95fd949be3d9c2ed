/* placeholder until the example lands */
#include <roster.h>
int main(void) { return roster_version() > 0 ? 0 : 1; }
