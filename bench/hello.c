/* The start-up baseline for `make bench`: a static hello-world (musl-gcc -static). */
#include <stdio.h>

int main(void)
{
	puts("hello, world");
	return 0;
}
