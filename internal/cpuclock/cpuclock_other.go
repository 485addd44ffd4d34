//go:build !unix

package cpuclock

import "time"

// Now returns 0: this platform gives no process CPU time.
func Now() time.Duration { return 0 }
