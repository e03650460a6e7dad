package prompt

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/media/tone"
	"github.com/callrec/callrec/policy"
)

// peak returns the largest absolute sample as a fraction of full scale.
func peak(pcm []int16) float64 {
	m := 0
	for _, v := range pcm {
		m = max(m, int(v), -int(v))
	}
	return float64(m) / 32768
}

// TestR21_RequiredLanguagesHavePrompts: issue 5 point 4 asks for at least
// English, Danish, German, French and Spanish, and every language the
// policy engine can choose (policy.Languages) must have its own prompts,
// or R21 would silently fall back to en_US for it.
func TestR21_RequiredLanguagesHavePrompts(t *testing.T) {
	have := Languages()
	required := []string{"en_US", "en_GB", "da_DK", "de_DE", "fr_FR", "es_ES"}
	for _, l := range append(required, policy.Languages...) {
		if !slices.Contains(have, l) {
			t.Errorf("no prompts for %s; have %v", l, have)
		}
	}
	if DefaultLanguage != callrec.DefaultLanguage {
		t.Errorf("DefaultLanguage = %q, callrec.DefaultLanguage = %q", DefaultLanguage, callrec.DefaultLanguage)
	}
	if !slices.IsSorted(have) {
		t.Errorf("Languages() = %v, not sorted", have)
	}
}

// TestEveryKindInEveryLanguage checks each prompt is real, usable audio:
// present in its own language, 0.5..5 s long (the feature prompts, whole
// sentences a caller waits through, up to 9 s), with speech energy, peak
// normalised to about -3 dBFS without clipping, and trimmed (its first
// and last 50 ms are not silence).
func TestEveryKindInEveryLanguage(t *testing.T) {
	for _, lang := range Languages() {
		for _, kind := range Kinds() {
			t.Run(lang+"/"+kind, func(t *testing.T) {
				pcm, got, err := Get(kind, lang)
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				if got != lang {
					t.Fatalf("Get(%s, %s) chose %s", kind, lang, got)
				}
				secs := float64(len(pcm)) / Rate
				maxSecs := 5.0
				if kind == Queue || kind == Greeting || kind == Voicemail {
					maxSecs = 9
				}
				if secs < 0.5 || secs > maxSecs {
					t.Errorf("duration %.2f s, want 0.5..%.0f s", secs, maxSecs)
				}
				if r := tone.RMS(pcm); r < 0.03 {
					t.Errorf("RMS %.4f of full scale, want speech above 0.03 (-30 dBFS)", r)
				}
				// -3 dBFS is 0.708; G.711 quantisation moves it by < 2 %.
				if p := peak(pcm); p < 0.6 || p > 0.75 {
					t.Errorf("peak %.3f of full scale, want about 0.708 (-3 dBFS), no clipping", p)
				}
				edge := Rate / 20
				if r := tone.RMS(pcm[:edge]); r < 0.002 {
					t.Errorf("first 50 ms RMS %.4f: leading silence not trimmed", r)
				}
				if r := tone.RMS(pcm[len(pcm)-edge:]); r < 0.002 {
					t.Errorf("last 50 ms RMS %.4f: trailing silence not trimmed", r)
				}
			})
		}
	}
}

// TestPromptsDiffer: no two prompts are the same audio, across kinds and
// across languages (en_US and en_GB share wording for some kinds but not
// the voice).
func TestPromptsDiffer(t *testing.T) {
	seen := map[[32]byte]string{}
	for _, lang := range Languages() {
		for _, kind := range Kinds() {
			pcm, _, err := Get(kind, lang)
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			if err := binary.Write(h, binary.LittleEndian, pcm); err != nil {
				t.Fatal(err)
			}
			var sum [32]byte
			copy(sum[:], h.Sum(nil))
			if other, dup := seen[sum]; dup {
				t.Errorf("%s/%s is the same audio as %s", lang, kind, other)
			}
			seen[sum] = lang + "/" + kind
		}
	}
	en, _, _ := Get(Compliance, "en_US")
	da, _, _ := Get(Compliance, "da_DK")
	if slices.Equal(en, da) {
		t.Error("en_US and da_DK compliance prompts are equal")
	}
}

// TestR21_GetFallback: the first candidate with prompts wins; unknown and
// empty candidates are skipped; en_US ends the chain.
func TestR21_GetFallback(t *testing.T) {
	cases := []struct {
		name  string
		langs []string
		want  string
	}{
		{"no candidates gives en_US", nil, "en_US"},
		{"known language", []string{"da_DK"}, "da_DK"},
		{"unknown then known", []string{"xx_XX", "de_DE"}, "de_DE"},
		{"empty then known", []string{"", "fr_CA"}, "fr_CA"},
		{"unknown only gives en_US", []string{"xx_XX", "tlh_QO"}, "en_US"},
		{"first of two known", []string{"es_ES", "de_DE"}, "es_ES"},
		{"dash and lower case", []string{"de-de"}, "de_DE"},
		{"language without country is unknown", []string{"de", "nl_NL"}, "nl_NL"},
		{"blank around code", []string{" sv_SE "}, "sv_SE"},
	}
	enPCM, _, err := Get(Compliance, "en_US")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pcm, lang, err := Get(Compliance, tc.langs...)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if lang != tc.want {
				t.Fatalf("language %s, want %s", lang, tc.want)
			}
			want, _, _ := Get(Compliance, tc.want)
			if !slices.Equal(pcm, want) {
				t.Errorf("audio is not the %s prompt", tc.want)
			}
			if lang != "en_US" && slices.Equal(pcm, enPCM) {
				t.Errorf("chose %s but returned the en_US audio", lang)
			}
		})
	}
}

func TestGetDoesNotTouchCallerSlice(t *testing.T) {
	langs := make([]string, 1, 4)
	langs[0] = "xx_XX"
	if _, _, err := Get(Stop, langs...); err != nil {
		t.Fatal(err)
	}
	if got := langs[:cap(langs)]; got[1] != "" {
		t.Errorf("Get wrote %q past the caller's candidates", got[1])
	}
}

func TestGetUnknownKind(t *testing.T) {
	for _, kind := range []string{"", "Compliance", "failure", "beep"} {
		t.Run(kind, func(t *testing.T) {
			pcm, lang, err := Get(kind, "en_US")
			if !errors.Is(err, ErrUnknownKind) {
				t.Fatalf("err = %v, want ErrUnknownKind", err)
			}
			if pcm != nil || lang != "" {
				t.Errorf("got %d samples in %q with an error", len(pcm), lang)
			}
		})
	}
}

// TestGetDecodesOnceConcurrently: many goroutines asking at once get the
// same decoded samples (one backing array), without a data race.
func TestGetDecodesOnceConcurrently(t *testing.T) {
	const n = 8
	got := make([][]int16, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			pcm, _, err := Get(FailureEnd, "it_IT")
			if err != nil {
				t.Error(err)
			}
			got[i] = pcm
		})
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if len(got[i]) == 0 || &got[i][0] != &got[0][0] {
			t.Fatalf("call %d got a different copy of the samples", i)
		}
	}
}

func TestKindsIsACopy(t *testing.T) {
	k := Kinds()
	k[0] = "changed"
	if Kinds()[0] != Compliance {
		t.Error("modifying Kinds() changed the package's list")
	}
	l := Languages()
	l[0] = "changed"
	if Languages()[0] == "changed" {
		t.Error("modifying Languages() changed the package's list")
	}
}

// TestKindsListsEveryPrompt: the recording announcements (R17..R28, X1)
// and the call features' prompts (issue 5 point 1) are all kinds, in
// this order, and the feature prompts are in every language like the
// others (R21: a queue, auto attendant or mailbox in de_DE speaks German).
func TestKindsListsEveryPrompt(t *testing.T) {
	want := []string{"compliance", "start", "stop", "pause", "resume", "failureProceed", "failureEnd", "queue", "greeting", "voicemail"}
	if got := Kinds(); !slices.Equal(got, want) {
		t.Fatalf("Kinds() = %v, want %v", got, want)
	}
	for _, kind := range []string{Queue, Greeting, Voicemail} {
		for _, lang := range policy.Languages {
			if _, got, err := Get(kind, lang); err != nil || got != lang {
				t.Errorf("Get(%s, %s) = %s, %v: want the %s prompt itself", kind, lang, got, err, lang)
			}
		}
	}
}
