struct e {} __attribute__((aligned(64)));
struct s { long a; struct e e; long b; };
typedef struct { int x; } small_t;
typedef struct { long big[8]; } bigl_t;
typedef struct {
	union {
		struct tagged { int owned; bigl_t slock; };
		long combined;
	};
	int after;
} lk_t;
typedef struct {
	union {
		struct { int owned; bigl_t slock; };
		long combined;
	};
	int after;
} lk2_t;
