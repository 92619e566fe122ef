#include <stdio.h>
int main(void) { fprintf(stderr, "qsearch: not yet\n"); return 1; }
