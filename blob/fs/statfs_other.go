//go:build !unix

package fs

import (
	"errors"
	"fmt"
)

// FreeBytes is not implemented on this system.
func (s *Store) FreeBytes() (uint64, error) {
	return 0, fmt.Errorf("blob/fs: free space of %s: %w", s.root, errors.ErrUnsupported)
}
