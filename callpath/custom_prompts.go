package callpath

// Custom announcements (issue 5 point 4): when the policy names an
// uploaded file for an announcement (policy.Announcement.FileID), the
// call plays that file's audio from Deps.Files instead of the built-in
// prompt, falling back to the prompt when the file cannot be read. Like
// every prompt it goes to the parties only, never to a tap (R22).

import (
	"context"
	"strings"
	"time"

	"github.com/callrec/callrec/policy"
)

// fileSep joins a prompt kind and a custom file id in the kind string
// that play takes ("compliance" + fileSep + id); prompt kinds never hold it.
const fileSep = "\x00file:"

// fileTimeout bounds reading a custom announcement's audio, so a slow
// store delays the prompt at most this long before the default plays.
const fileTimeout = 2 * time.Second

// fileKind is kind, marked to play a's custom file when a names one.
func fileKind(kind string, a *policy.Announcement) string {
	if a == nil || a.FileID == "" {
		return kind
	}
	return kind + fileSep + a.FileID
}

// promptPCM returns the 8 kHz audio play sends for kind: the custom
// file's when kind names one and Deps.Files can read it, else the
// built-in prompt or tone of the base kind in lang.
func (c *call) promptPCM(kind, lang string) []int16 {
	base, fileID, custom := strings.Cut(kind, fileSep)
	if custom && c.s.deps.Files != nil {
		ctx, cancel := context.WithTimeout(context.Background(), fileTimeout)
		pcm, err := c.s.deps.Files.Audio(ctx, c.promptOrg(), fileID)
		cancel()
		if err == nil && len(pcm) > 0 {
			return pcm
		}
		c.s.log.Warn("callpath: custom announcement cannot be played; playing the default prompt",
			"call", c.id, "kind", base, "file", fileID, "err", err)
	}
	pcm, _ := pcmOf(base, lang)
	return pcm
}

// promptOrg is the org whose announcement files the call plays: the
// recorded party's (whose policy chose the file), else the callee's or
// the caller's.
func (c *call) promptOrg() string {
	for _, p := range c.plans {
		if p.person != nil && p.person.OrgID != "" {
			return p.person.OrgID
		}
	}
	if c.callee != nil && c.callee.orgID != "" {
		return c.callee.orgID
	}
	if c.caller != nil {
		return c.caller.orgID
	}
	return ""
}
