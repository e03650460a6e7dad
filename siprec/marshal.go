package siprec

import (
	"bytes"
	"encoding/xml"
	"time"
)

// Marshal writes m as an RFC 7865 metadata document (§9) in the namespace
// urn:ietf:params:xml:ns:recording:1 and schema element order: datamode,
// group, session, participant, stream, participantsessionassoc,
// participantstreamassoc, then document-level extensions. Extensions are
// written verbatim inside the element whose id is their ParentID (or at
// document level). Times are written raw when known (StartTime), else in
// RFC 3339. Group Initiator and stream Mode, which only pre-RFC models
// carry, are written as <initiator> and <mode> when set. ParseMetadata of
// the result gives m back.
func (m *Metadata) Marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<recording xmlns="` + NSRecording + `">` + "\n")
	if m.DataMode != "" {
		elem(&b, "  ", "datamode", m.DataMode)
	}
	placed := map[int]bool{}
	exts := func(indent, parent string) {
		if parent == "" {
			return
		}
		for i, e := range m.Extensions {
			if !placed[i] && e.ParentID == parent {
				placed[i] = true
				b.WriteString(indent)
				b.WriteString(e.XML)
				b.WriteByte('\n')
			}
		}
	}
	for _, g := range m.Groups {
		b.WriteString(`  <group group_id="` + esc(g.ID) + `">` + "\n")
		if g.AssociateTime != "" {
			elem(&b, "    ", "associate-time", g.AssociateTime)
		}
		if g.Initiator != "" {
			elem(&b, "    ", "initiator", g.Initiator)
		}
		exts("    ", g.ID)
		b.WriteString("  </group>\n")
	}
	for _, s := range m.Sessions {
		b.WriteString(`  <session session_id="` + esc(s.ID) + `">` + "\n")
		for _, id := range s.SIPSessionIDs {
			elem(&b, "    ", "sipSessionID", id)
		}
		if s.GroupID != "" {
			elem(&b, "    ", "group-ref", s.GroupID)
		}
		if t := timeText(s.StartTime, s.Start); t != "" {
			elem(&b, "    ", "start-time", t)
		}
		if t := timeText(s.StopTime, s.Stop); t != "" {
			elem(&b, "    ", "stop-time", t)
		}
		exts("    ", s.ID)
		b.WriteString("  </session>\n")
	}
	for _, p := range m.Participants {
		b.WriteString(`  <participant participant_id="` + esc(p.ID) + `">` + "\n")
		n := max(len(p.AORs), 1)
		for i := 0; i < n; i++ {
			var names []string
			if i < len(p.Names) {
				names = p.Names[i : i+1]
			}
			if i == n-1 && len(p.Names) > n {
				names = p.Names[i:]
			}
			aor := ""
			if i < len(p.AORs) {
				aor = p.AORs[i]
			}
			if aor == "" && len(names) == 0 {
				continue
			}
			b.WriteString(`    <nameID aor="` + esc(aor) + `">`)
			for _, nm := range names {
				b.WriteString("<name>" + esc(nm) + "</name>")
			}
			b.WriteString("</nameID>\n")
		}
		exts("    ", p.ID)
		b.WriteString("  </participant>\n")
	}
	for _, s := range m.Streams {
		b.WriteString(`  <stream stream_id="` + esc(s.ID) + `" session_id="` + esc(s.SessionID) + `">` + "\n")
		elem(&b, "    ", "label", s.Label)
		if s.Mode != "" {
			elem(&b, "    ", "mode", s.Mode)
		}
		exts("    ", s.ID)
		b.WriteString("  </stream>\n")
	}
	for _, p := range m.Participants {
		for _, sid := range p.SessionIDs {
			b.WriteString(`  <participantsessionassoc participant_id="` + esc(p.ID) + `" session_id="` + esc(sid) + `">`)
			if p.Disassociated {
				b.WriteString("<disassociate-time>" + esc(p.DisassociateTime) + "</disassociate-time>")
			}
			b.WriteString("</participantsessionassoc>\n")
		}
	}
	for _, p := range m.Participants {
		if !p.StreamInfo && len(p.Send) == 0 && len(p.Recv) == 0 {
			continue
		}
		b.WriteString(`  <participantstreamassoc participant_id="` + esc(p.ID) + `">`)
		for _, id := range p.Send {
			b.WriteString("<send>" + esc(id) + "</send>")
		}
		for _, id := range p.Recv {
			b.WriteString("<recv>" + esc(id) + "</recv>")
		}
		b.WriteString("</participantstreamassoc>\n")
	}
	for i, e := range m.Extensions {
		if !placed[i] {
			b.WriteString("  " + e.XML + "\n")
		}
	}
	b.WriteString("</recording>\n")
	return b.Bytes(), nil
}

func elem(b *bytes.Buffer, indent, name, text string) {
	b.WriteString(indent + "<" + name + ">" + esc(text) + "</" + name + ">\n")
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func timeText(raw string, t time.Time) string {
	if raw != "" {
		return raw
	}
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
