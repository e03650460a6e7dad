package siprec

// Merge applies the update u to m (RFC 7865 §6.1, siprec-interop.md §4.4).
//
// A complete update (datamode complete or absent) replaces everything m
// holds. A partial update merges by id: objects u names are updated with
// the fields u gives, new ones are appended, objects u does not name are
// kept. A participant whose stream associations u restates (StreamInfo)
// takes u's send and recv lists as they are, so a participant present with
// stream info but without <send> has stopped sending (hold) and a later
// partial update with <send> restores it. Extensions u carries replace m's
// extensions of the same parent.
//
// After a merge m describes the whole current state, so its DataMode stays
// what it was (complete, unless m itself came from a partial update).
func (m *Metadata) Merge(u *Metadata) {
	if u == nil {
		return
	}
	if !u.IsPartial() {
		*m = *u.clone()
		return
	}
	u = u.clone()
	for _, g := range u.Groups {
		dst := find(m.Groups, g.ID, groupID)
		if dst == nil {
			m.Groups = append(m.Groups, g)
			continue
		}
		setIf(&dst.Initiator, g.Initiator)
		setIf(&dst.AssociateTime, g.AssociateTime)
	}
	for _, s := range u.Sessions {
		dst := find(m.Sessions, s.ID, sessionID)
		if dst == nil {
			m.Sessions = append(m.Sessions, s)
			continue
		}
		setIf(&dst.GroupID, s.GroupID)
		if len(s.SIPSessionIDs) > 0 {
			dst.SIPSessionIDs = s.SIPSessionIDs
		}
		if s.StartTime != "" {
			dst.StartTime, dst.Start = s.StartTime, s.Start
		}
		if s.StopTime != "" {
			dst.StopTime, dst.Stop = s.StopTime, s.Stop
		}
	}
	for _, p := range u.Participants {
		dst := m.Participant(p.ID)
		if dst == nil {
			m.Participants = append(m.Participants, p)
			continue
		}
		if len(p.AORs) > 0 {
			dst.AORs = p.AORs
		}
		if len(p.Names) > 0 {
			dst.Names = p.Names
		}
		for _, sid := range p.SessionIDs {
			dst.SessionIDs = appendUnique(dst.SessionIDs, sid)
		}
		if p.Disassociated {
			dst.Disassociated, dst.DisassociateTime = true, p.DisassociateTime
		}
		if p.StreamInfo {
			dst.Send, dst.Recv, dst.StreamInfo = p.Send, p.Recv, true
		}
	}
	for _, s := range u.Streams {
		dst := find(m.Streams, s.ID, streamID)
		if dst == nil {
			m.Streams = append(m.Streams, s)
			continue
		}
		setIf(&dst.SessionID, s.SessionID)
		setIf(&dst.Label, s.Label)
		setIf(&dst.Mode, s.Mode)
	}
	if len(u.Extensions) > 0 {
		replaced := map[string]bool{}
		for _, e := range u.Extensions {
			replaced[e.ParentID] = true
		}
		kept := m.Extensions[:0:0]
		for _, e := range m.Extensions {
			if !replaced[e.ParentID] {
				kept = append(kept, e)
			}
		}
		m.Extensions = append(kept, u.Extensions...)
	}
	if m.Namespace == "" {
		m.Namespace = u.Namespace
	}
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// clone returns a deep copy of m, so that merged state never shares slices
// with an update the caller may still hold.
func (m *Metadata) clone() *Metadata {
	c := *m
	c.Groups = append([]Group(nil), m.Groups...)
	c.Sessions = make([]Session, len(m.Sessions))
	for i, s := range m.Sessions {
		s.SIPSessionIDs = cloneStrings(s.SIPSessionIDs)
		c.Sessions[i] = s
	}
	c.Participants = make([]Participant, len(m.Participants))
	for i, p := range m.Participants {
		p.AORs = cloneStrings(p.AORs)
		p.Names = cloneStrings(p.Names)
		p.Send = cloneStrings(p.Send)
		p.Recv = cloneStrings(p.Recv)
		p.SessionIDs = cloneStrings(p.SessionIDs)
		c.Participants[i] = p
	}
	c.Streams = append([]Stream(nil), m.Streams...)
	c.Extensions = append([]Extension(nil), m.Extensions...)
	if len(m.Sessions) == 0 {
		c.Sessions = nil
	}
	if len(m.Participants) == 0 {
		c.Participants = nil
	}
	return &c
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}
