// Package prompt holds the audio the call plane plays to the parties of a
// call: the spoken announcements (compliance, start, stop, pause, resume,
// and the two failure notices) and the call features' prompts (queue hold,
// auto attendant greeting, voicemail) in every announcement language, the tones
// (the R28 pause/resume beep, the R29 repeat tone, the refusal of a feature
// access code), and a Player that turns any of them into RTP payloads of
// the leg's codec, 20 ms at a time.
//
// The announcements are real speech, made by scripts/make-prompts.sh with
// espeak-ng and sox and embedded in the binary (audio/<lang>/<kind>.wav, 8
// kHz mono G.711 µ-law). They are decoded on first use, once, and shared:
// the slices Get returns must not be modified.
//
// What this package must never do: put its audio anywhere but on the legs
// of a call (R22: announcements and tones are never part of a recording;
// that is the caller's duty, the package only hands out samples), do I/O
// other than reading its embedded files, panic on any input, or allocate
// in Player.Next, which runs in the relay's send path.
package prompt

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
)

// Kinds of prompts. The policy engine's announcement kinds (policy.Kind*)
// name the first five; the two failure kinds are X1's failure behaviours
// PROCEED_CALL_WITH_ANNOUNCEMENT and END_CALL_WITH_ANNOUNCEMENT.
const (
	Compliance     = "compliance"     // "This call may be recorded." (R17, R18)
	Start          = "start"          // "This call is now being recorded." (R23, R27)
	Stop           = "stop"           // "Recording stopped." (R23, R27)
	Pause          = "pause"          // "Recording paused." (R28)
	Resume         = "resume"         // "Recording resumed." (R28)
	FailureProceed = "failureProceed" // "This call cannot be recorded." (X1)
	FailureEnd     = "failureEnd"     // "This call cannot be recorded and will now end." (X1)

	// The prompts of the call features (issue 5 point 1), in the
	// feature's or the mailbox owner's language (R21).
	Queue     = "queue"     // "Please hold. Your call will be answered by the next available agent." (call queue)
	Greeting  = "greeting"  // "Welcome. Please enter the extension ... followed by the hash key." (auto attendant)
	Voicemail = "voicemail" // "The person you are calling is not available. Please leave a message after the tone."
)

// DefaultLanguage is the last step of R21's fallback chain and the
// language Get uses when no candidate has the prompt. It equals
// callrec.DefaultLanguage.
const DefaultLanguage = "en_US"

// Rate is the sample rate of the PCM Get returns.
const Rate = 8000

// ErrUnknownKind reports a kind that is not one of the Kinds.
var ErrUnknownKind = errors.New("prompt: unknown kind")

// kinds lists every kind, in the order Kinds returns them.
var kinds = []string{Compliance, Start, Stop, Pause, Resume, FailureProceed, FailureEnd, Queue, Greeting, Voicemail}

// Kinds returns every kind of prompt, in a new slice.
func Kinds() []string { return slices.Clone(kinds) }

//go:embed audio
var audioFS embed.FS

// clip is one embedded prompt, decoded on first use.
type clip struct {
	path string
	load func() ([]int16, error)
}

// catalogue maps language -> kind -> clip. It is built on first use from
// the embedded directory tree (no init-time work).
type catalogue struct {
	langs []string
	clips map[string]map[string]*clip
}

var index = sync.OnceValue(buildIndex)

func buildIndex() *catalogue {
	c := &catalogue{clips: map[string]map[string]*clip{}}
	dirs, err := fs.ReadDir(audioFS, "audio")
	if err != nil { // cannot happen: the directory is embedded
		return c
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		lang := d.Name()
		byKind := map[string]*clip{}
		for _, k := range kinds {
			p := "audio/" + lang + "/" + k + ".wav"
			if _, err := fs.Stat(audioFS, p); err != nil {
				continue
			}
			byKind[k] = &clip{path: p, load: sync.OnceValues(func() ([]int16, error) { return decodeEmbedded(p) })}
		}
		if len(byKind) > 0 {
			c.langs = append(c.langs, lang)
			c.clips[lang] = byKind
		}
	}
	slices.Sort(c.langs)
	return c
}

// decodeEmbedded reads and decodes one embedded prompt, which must be 8 kHz.
func decodeEmbedded(path string) ([]int16, error) {
	b, err := audioFS.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("prompt: read %s: %w", path, err)
	}
	pcm, rate, err := ParseWAV(b)
	if err != nil {
		return nil, fmt.Errorf("prompt: decode %s: %w", path, err)
	}
	if rate != Rate {
		return nil, fmt.Errorf("prompt: %s is %d Hz, not %d: %w", path, rate, Rate, ErrFormat)
	}
	return slices.Clip(pcm), nil
}

// Languages lists the languages with prompts, as language_COUNTRY codes
// (Webex's announcementLanguage spelling, e.g. "en_US", "da_DK"), sorted,
// in a new slice.
func Languages() []string { return slices.Clone(index().langs) }

// canonical returns the embedded spelling of a language code, matched
// without regard to case and with "-" or "_" between language and country
// ("de-de" is de_DE), or "" when there are no prompts for it.
func (c *catalogue) canonical(lang string) string {
	lang = strings.ReplaceAll(strings.TrimSpace(lang), "-", "_")
	if lang == "" {
		return ""
	}
	for _, l := range c.langs {
		if strings.EqualFold(l, lang) {
			return l
		}
	}
	return ""
}

// Get returns the prompt of the given kind as 8 kHz (Rate) 16-bit mono PCM
// in the first of langs that has it, else in en_US (R21's last step), and
// the language it chose. Languages are matched as policy.Language matches
// them ("de-de" finds de_DE); empty and unknown ones are skipped, so a
// caller passes R21's chain as it stands (the call's language, then the
// org default). The samples are decoded once and shared by every caller:
// they must not be modified. An unknown kind is an error wrapping
// ErrUnknownKind.
func Get(kind string, langs ...string) (pcm []int16, lang string, err error) {
	if !slices.Contains(kinds, kind) {
		return nil, "", fmt.Errorf("prompt: get %q: %w", kind, ErrUnknownKind)
	}
	c := index()
	for i := 0; i <= len(langs); i++ {
		cand := DefaultLanguage // after the caller's candidates (never append to langs: it may be the caller's slice)
		if i < len(langs) {
			cand = langs[i]
		}
		l := c.canonical(cand)
		if l == "" {
			continue
		}
		cl, ok := c.clips[l][kind]
		if !ok {
			continue
		}
		pcm, err := cl.load()
		if err != nil {
			return nil, "", err
		}
		return pcm, l, nil
	}
	return nil, "", fmt.Errorf("prompt: get %q: no prompt in %v or %s: %w", kind, langs, DefaultLanguage, fs.ErrNotExist)
}
