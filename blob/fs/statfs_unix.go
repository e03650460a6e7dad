//go:build unix

package fs

import (
	"fmt"
	"syscall"
)

// FreeBytes returns the bytes available to the process on the root's
// filesystem (statfs f_bavail × f_bsize), for the --min-free-disk check.
func (s *Store) FreeBytes() (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.root, &st); err != nil {
		return 0, fmt.Errorf("blob/fs: statfs %s: %w", s.root, err)
	}
	// The field types differ between systems, hence the conversions.
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
