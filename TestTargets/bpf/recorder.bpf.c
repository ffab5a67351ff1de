// Four identical recorders in bare SEC("usdt") sections, attached by hand by the suites
// and by `usdt trace`; `program` in each hit tells them apart.
#include "recorder.h"

SEC("usdt") int record_a(struct pt_regs *ctx) { return record(ctx, 0); }
SEC("usdt") int record_b(struct pt_regs *ctx) { return record(ctx, 1); }
SEC("usdt") int record_c(struct pt_regs *ctx) { return record(ctx, 2); }
SEC("usdt") int record_d(struct pt_regs *ctx) { return record(ctx, 3); }

char LICENSE[] SEC("license") = "GPL";
