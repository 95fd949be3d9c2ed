/* placeholder until the shell lands */
int main(void) { return 2; }
