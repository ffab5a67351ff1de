/* The executable fixtures call both units so nothing is dropped. */
int fixture_sema(int a, long b, char c);
int fixture_plain(int a, long b);

int main(int argc, char **argv) {
  (void)argv;
  return fixture_sema(argc, 2, 3) + fixture_plain(argc, 4);
}
