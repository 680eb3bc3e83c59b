/* The user-defined provider example (examples/custom_provider.c) runs and
 * does what its comments say: registered at run time, a pool over it hands
 * out a fragment the device writes, at the bus address the provider chose. */
#include <libgen.h>
#include <stdio.h>
#include <sys/wait.h>

#include "harness.h"

int main(int argc, char **argv)
{
	char dir[4096], cmd[4200], out[4096] = "";
	const char *build = getenv("NETMEM_BUILD");
	FILE *f;
	size_t n;
	int st;

	(void)argc;
	if (build)
		snprintf(dir, sizeof(dir), "%s/examples", build);
	else {
		snprintf(cmd, sizeof(cmd), "%s", argv[0]);
		snprintf(dir, sizeof(dir), "%s/../examples", dirname(cmd));
	}
	snprintf(cmd, sizeof(cmd), "%s/custom_provider", dir);
	f = fopen(cmd, "r");
	if (!f)
		SKIP("%s not built (make examples)", cmd);
	fclose(f);
	f = popen(cmd, "r");
	REQUIRE(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	st = pclose(f);
	printf("%s", out);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	{
		unsigned long long bus = 0;
		char word[32] = "";

		/* the provider placed its 64 chunks at bus 0x80000000 */
		CHECK(sscanf(out, "fragment at bus address %llx holds \"%31[^\"]", &bus, word) == 2);
		CHECK(bus >= 0x80000000ull && bus < 0x80000000ull + 64 * 4096);
		CHECK(!strcmp(word, "hello, device"));
	}
	CHECK(strstr(out, "\"frag_alloc\":1") != NULL);
	CHECK(strstr(out, "\"in_flight\":1") != NULL); /* the chunk still being carved */
	return t_done();
}
