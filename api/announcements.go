package api

// Announcement repository (Webex "Features: Announcement Repository";
// issue 5 point 4): admins upload WAV files at org or location level as
// multipart/form-data, list, read, replace and delete them; the call
// plane plays them in place of the default prompts when a compliance or
// recording announcement setting chooses one (§7, §8). A file such a
// setting uses cannot be deleted (409).
//
// The org-level paths address every file of the org (its level is in the
// body); the location-level paths only the files of that location. Who
// may change a file is decided by the file's level: full admins any,
// location admins those of their own locations.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/audiofile"
	"github.com/callrec/callrec/directory"
)

// Paths, audit type and limits of the announcement repository.
const (
	annPath           = "/v1/telephony/config/announcements"
	annLocPath        = "/v1/telephony/config/locations/{locationId}/announcements"
	annTag            = "Announcement Repository"
	auditAnnouncement = "announcementFile"
	// uploadBodyBytes bounds an upload request: the largest file plus
	// room for the multipart framing and the name; a larger request is
	// 413, a file over the limit in a smaller one a 400 naming its size.
	uploadBodyBytes = audiofile.MaxAnnouncementBytes + 1<<20
	// maxAnnouncementName is the longest announcement name, in characters.
	maxAnnouncementName = 80
	// levelOrg and levelLocation are Webex's announcement levels (§2.3).
	levelOrg      = "ORGANIZATION"
	levelLocation = "LOCATION"
)

// bodyLimit is the request body bound of r: uploadBodyBytes for
// announcement uploads, maxBodyBytes for everything else.
func bodyLimit(r *http.Request) int64 {
	if (r.Method == http.MethodPost || r.Method == http.MethodPut) && strings.HasPrefix(r.URL.Path, "/v1/telephony/config/") &&
		strings.Contains(r.URL.Path, "/announcements") && !strings.Contains(r.URL.Path, "/callRecording/") {
		return uploadBodyBytes
	}
	return maxBodyBytes
}

// announcementIDJSON is the answer to an upload.
type announcementIDJSON struct {
	ID string `json:"id" doc:"ANNOUNCEMENT id of the new file"`
}

// announcementLocationJSON names the location of a location-level file.
type announcementLocationJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// announcementJSON is one file of the repository list.
type announcementJSON struct {
	ID             string                    `json:"id"`
	Name           string                    `json:"name"`
	FileName       string                    `json:"fileName"`
	FileSize       string                    `json:"fileSize" doc:"size in kilobytes (rounded up), a string as Webex has it"`
	MediaFileType  string                    `json:"mediaFileType" doc:"WAV"`
	LastUpdated    string                    `json:"lastUpdated" doc:"when the file was uploaded or last replaced (UTC)"`
	Level          string                    `json:"level" doc:"ORGANIZATION or LOCATION"`
	Location       *announcementLocationJSON `json:"location,omitempty" doc:"the file's location (LOCATION level)"`
	IsTextToSpeech bool                      `json:"isTextToSpeech"`
}

// announcementListJSON is the repository list.
type announcementListJSON struct {
	Announcements []announcementJSON `json:"announcements"`
}

// announcementReferenceJSON is a setting that plays the file.
type announcementReferenceJSON struct {
	ID           string `json:"id" doc:"the ORGANIZATION or LOCATION whose setting uses the file"`
	Name         string `json:"name" doc:"which setting: complianceAnnouncement, start, stop, pause, resume, failureProceedWithCall, failureEndWithCall"`
	Type         string `json:"type" doc:"CALL_RECORDING"`
	LocationID   string `json:"locationId,omitempty"`
	LocationName string `json:"locationName,omitempty"`
}

// announcementDetailJSON is one file with the settings that use it.
type announcementDetailJSON struct {
	announcementJSON
	FeatureReferenceCount int                         `json:"featureReferenceCount"`
	FeatureReferences     []announcementReferenceJSON `json:"featureReferences"`
}

// announcementUploadDoc documents the multipart body of an upload.
type announcementUploadDoc struct {
	Name string `json:"name" doc:"form field: the announcement's name (default: the file name without its extension), at most 80 characters"`
	File string `json:"file" doc:"form file part (any field name): a WAV file of at most 8 MiB, 16-bit PCM or G.711 (µ-law, A-law), mono, 8 or 16 kHz"`
}

// announcementRoutes registers the announcement repository.
func (s *server) announcementRoutes() {
	org := func(p perm, h orgHandler) http.Handler { return s.inOrgScope(p, h) }
	upload := "multipart/form-data with a WAV file part and a name field. "
	s.register(op{Method: "GET", Path: annPath, Summary: "List announcement files: the org level's, a location's (locationId), or all (locationId=all)", Tag: annTag,
		Access: crAccessRead, Query: []param{qOrgID, {"locationId", "string", "a location's files; all: every file of the org; absent: the org-level files"}},
		Resp: announcementListJSON{}, Handler: org(permRead, s.listAnnouncements)})
	s.register(op{Method: "POST", Path: annPath, Summary: "Upload an org-level announcement file: " + upload + "A refused file answers 400 naming what is wrong (format, encoding, channels, rate, size) and nothing is kept", Tag: annTag,
		Access: crAccessWrite, Query: []param{qOrgID}, Body: announcementUploadDoc{}, BodyType: "multipart/form-data", Resp: announcementIDJSON{}, Status: http.StatusCreated,
		Handler: org(permWrite, s.uploadAnnouncement(false))})
	s.register(op{Method: "POST", Path: annLocPath, Summary: "Upload a location-level announcement file: " + upload + "A refused file answers 400 naming what is wrong and nothing is kept", Tag: annTag,
		Access: crAccessLocation, Query: []param{qOrgID}, Body: announcementUploadDoc{}, BodyType: "multipart/form-data", Resp: announcementIDJSON{}, Status: http.StatusCreated,
		Handler: org(permWrite, s.uploadAnnouncement(true))})
	for _, p := range []struct {
		path   string
		atLoc  bool
		access string
	}{{annPath + "/{announcementId}", false, crAccessWrite}, {annLocPath + "/{announcementId}", true, crAccessLocation}} {
		s.register(op{Method: "GET", Path: p.path, Summary: "Get an announcement file and the call recording settings that play it", Tag: annTag,
			Access: crAccessRead, Query: []param{qOrgID}, Resp: announcementDetailJSON{}, Handler: org(permRead, s.getAnnouncement(p.atLoc))})
		s.register(op{Method: "PUT", Path: p.path, Summary: "Replace an announcement file's audio (and name): " + upload + "Settings that use it play the new audio", Tag: annTag,
			Access: p.access, Query: []param{qOrgID}, Body: announcementUploadDoc{}, BodyType: "multipart/form-data", Handler: org(permWrite, s.replaceAnnouncement(p.atLoc))})
		s.register(op{Method: "DELETE", Path: p.path, Summary: "Delete an announcement file; 409 while a compliance or recording announcement setting uses it", Tag: annTag,
			Access: p.access, Query: []param{qOrgID}, Handler: org(permWrite, s.deleteAnnouncement(p.atLoc))})
	}
}

// renderAnnouncement renders a file; locs names the org's locations.
func renderAnnouncement(f *callrec.AnnouncementFile, locs map[string]string) announcementJSON {
	out := announcementJSON{ID: webexID(idAnnouncement, f.ID), Name: f.Name, FileName: f.FileName,
		FileSize: strconv.FormatInt((f.Size+1023)/1024, 10), MediaFileType: "WAV", Level: levelOrg}
	updated := f.Updated
	if updated.IsZero() {
		updated = f.Created
	}
	out.LastUpdated = crTime(updated)
	if f.LocationID != "" {
		out.Level = levelLocation
		out.Location = &announcementLocationJSON{ID: webexID(idLocation, f.LocationID), Name: locs[f.LocationID]}
	}
	return out
}

// locationNames maps the org's location ids to their names.
func locationNames(ctx context.Context, tx directory.Tx, orgID string) (map[string]string, error) {
	ls, err := directory.Locations.List(ctx, tx, orgID)
	if err != nil {
		return nil, fmt.Errorf("api: locations: %w", err)
	}
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.ID] = l.Name
	}
	return m, nil
}

// listAnnouncements is GET /v1/telephony/config/announcements.
func (s *server) listAnnouncements(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	ctx := r.Context()
	raw := r.URL.Query().Get("locationId")
	out := announcementListJSON{Announcements: []announcementJSON{}}
	err := s.store.View(ctx, func(tx directory.Tx) error {
		want := "" // the org level
		if raw != "" && raw != "all" {
			loc, err := crLocation(ctx, tx, org.ID, raw)
			if err != nil {
				return err
			}
			want = loc.ID
		}
		locs, err := locationNames(ctx, tx, org.ID)
		if err != nil {
			return err
		}
		files, err := directory.AnnouncementFiles.List(ctx, tx, org.ID)
		if err != nil {
			return fmt.Errorf("api: announcement files: %w", err)
		}
		for i := range files {
			if raw == "all" || files[i].LocationID == want {
				out.Announcements = append(out.Announcements, renderAnnouncement(&files[i], locs))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// loadAnnouncement resolves the file of the path: any file of the org on
// the org-level path, only the location's on the location-level path.
// It checks that tok may do p to it (the file's location decides).
func loadAnnouncement(ctx context.Context, tx directory.Tx, r *http.Request, tok *callrec.Token, org *callrec.Org, atLoc bool, p perm) (*callrec.AnnouncementFile, error) {
	raw := r.PathValue("announcementId")
	if atLoc {
		loc, err := crLocation(ctx, tx, org.ID, r.PathValue("locationId"))
		if err != nil {
			return nil, err
		}
		if err := require(tok, org, p, loc.ID); err != nil {
			return nil, err
		}
		f, err := dirLoad(ctx, tx, directory.AnnouncementFiles, org.ID, idAnnouncement, "Announcement", raw)
		if err != nil {
			return nil, err
		}
		if f.LocationID != loc.ID {
			return nil, notFoundThing("Announcement", raw)
		}
		return f, nil
	}
	f, err := dirLoad(ctx, tx, directory.AnnouncementFiles, org.ID, idAnnouncement, "Announcement", raw)
	if err != nil {
		return nil, err
	}
	if err := require(tok, org, p, f.LocationID); err != nil {
		return nil, err
	}
	return f, nil
}

// announcementRefs lists the call recording settings of the org and its
// locations that play file id (R17, §7, §8).
func announcementRefs(ctx context.Context, tx directory.Tx, org *callrec.Org, id string) ([]announcementReferenceJSON, error) {
	var refs []announcementReferenceJSON
	add := func(objID, locID, locName string, comp *callrec.ComplianceAnnouncement, ann *callrec.Announcements) {
		ref := func(name string) {
			r := announcementReferenceJSON{ID: objID, Name: name, Type: "CALL_RECORDING"}
			if locID != "" {
				r.LocationID, r.LocationName = webexID(idLocation, locID), locName
			}
			refs = append(refs, r)
		}
		if comp != nil && comp.CustomFileID == id {
			ref("complianceAnnouncement")
		}
		if ann == nil {
			return
		}
		for _, c := range []struct {
			name string
			ch   callrec.AnnouncementChoice
		}{{"start", ann.Start}, {"stop", ann.Stop}, {"pause", ann.Pause}, {"resume", ann.Resume},
			{"failureProceedWithCall", ann.FailureProceed}, {"failureEndWithCall", ann.FailureEnd}} {
			if c.ch.FileID == id {
				ref(c.name)
			}
		}
	}
	cur, err := directory.Orgs.Get(ctx, tx, "", org.ID)
	if err != nil {
		return nil, fmt.Errorf("api: org: %w", err)
	}
	add(webexID(idOrg, org.ID), "", "", &cur.Recording.Compliance, &cur.Recording.Announcements)
	locs, err := directory.Locations.List(ctx, tx, org.ID)
	if err != nil {
		return nil, fmt.Errorf("api: locations: %w", err)
	}
	for _, l := range locs {
		add(webexID(idLocation, l.ID), l.ID, l.Name, l.Recording.Compliance, l.Recording.Announcements)
	}
	return refs, nil
}

// getAnnouncement is GET .../announcements/{announcementId}.
func (s *server) getAnnouncement(atLoc bool) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
		ctx := r.Context()
		var out announcementDetailJSON
		err := s.store.View(ctx, func(tx directory.Tx) error {
			f, err := loadAnnouncement(ctx, tx, r, tok, org, atLoc, permRead)
			if err != nil {
				return err
			}
			locs, err := locationNames(ctx, tx, org.ID)
			if err != nil {
				return err
			}
			refs, err := announcementRefs(ctx, tx, org, f.ID)
			if err != nil {
				return err
			}
			out = announcementDetailJSON{announcementJSON: renderAnnouncement(f, locs), FeatureReferenceCount: len(refs),
				FeatureReferences: append([]announcementReferenceJSON{}, refs...)}
			return nil
		})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// upload is a checked announcement upload.
type upload struct {
	name     string // "" when the form has none
	fileName string
	data     []byte
	info     audiofile.Info
}

// parseUpload reads a multipart/form-data announcement upload: the first
// part with a file name is the file, the "name" field its name; other
// fields are ignored. The file must pass audiofile.Check. Every refusal
// is a 400 naming what is wrong.
func parseUpload(r *http.Request) (*upload, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, badRequest("The request must be multipart/form-data with the WAV file in a file part and the announcement's name in a name field")
	}
	return readUpload(r.Body, params["boundary"])
}

// readUpload reads the parts of an upload body.
func readUpload(body io.Reader, boundary string) (*upload, error) {
	mr := multipart.NewReader(body, boundary)
	up := &upload{}
	var haveFile bool
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, err
			}
			return nil, badRequestf("The multipart body could not be read: %v", err)
		}
		switch {
		case part.FileName() != "":
			if haveFile {
				return nil, badRequest("file: send one WAV file per upload")
			}
			haveFile = true
			up.fileName = path.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
			up.data, err = io.ReadAll(io.LimitReader(part, audiofile.MaxAnnouncementBytes+1))
			if err != nil {
				var tooLarge *http.MaxBytesError
				if errors.As(err, &tooLarge) {
					return nil, err
				}
				return nil, badRequestf("file: the file could not be read: %v", err)
			}
		case part.FormName() == "name":
			b, err := io.ReadAll(io.LimitReader(part, 4*maxAnnouncementName+1))
			if err != nil {
				return nil, badRequestf("name: the field could not be read: %v", err)
			}
			up.name = strings.TrimSpace(string(b))
			if up.name == "" {
				return nil, badRequest("name: must not be empty")
			}
		default:
			if _, err := io.Copy(io.Discard, io.LimitReader(part, maxBodyBytes)); err != nil {
				return nil, badRequestf("The multipart body could not be read: %v", err)
			}
		}
	}
	if !haveFile {
		return nil, badRequest("file: no file part; send the WAV file as a multipart file part")
	}
	if !utf8.ValidString(up.name) || utf8.RuneCountInString(up.name) > maxAnnouncementName {
		return nil, badRequestf("name: must be valid text of at most %d characters", maxAnnouncementName)
	}
	info, err := audiofile.Check(up.data)
	if err != nil {
		var fe *audiofile.FormatError
		if errors.As(err, &fe) {
			return nil, badRequestf("file %s: %s", quote(up.fileName), fe.Msg)
		}
		return nil, err
	}
	up.info = info
	return up, nil
}

// defaultName is an announcement's name when the upload gives none.
func defaultName(fileName string) string {
	n := strings.TrimSuffix(fileName, path.Ext(fileName))
	if utf8.RuneCountInString(n) > maxAnnouncementName {
		n = string([]rune(n)[:maxAnnouncementName])
	}
	if n == "" {
		n = "announcement"
	}
	return n
}

// announcementKey is the blob key of one upload of a file.
func announcementKey(orgID, id string) string {
	return "announcements/" + orgID + "/" + id + "/" + uuid.NewString() + ".wav"
}

// dropBlob removes a blob the directory no longer (or never) names.
func (s *server) dropBlob(ctx context.Context, key string) {
	if err := s.blobs.Delete(context.WithoutCancel(ctx), key); err != nil && !errors.Is(err, callrec.ErrNotFound) {
		s.log.Error("api: announcement audio left in the blob store", "key", key, "err", err, "trackingId", info(ctx).trackingID)
	}
}

// uploadAnnouncement is POST .../announcements: permissions first, then
// the body; the audio is stored before the document, and removed again
// when the document cannot be.
func (s *server) uploadAnnouncement(atLoc bool) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
		ctx := r.Context()
		locID := ""
		if atLoc {
			err := s.store.View(ctx, func(tx directory.Tx) error {
				loc, err := crLocation(ctx, tx, org.ID, r.PathValue("locationId"))
				if err != nil {
					return err
				}
				locID = loc.ID
				return nil
			})
			if err != nil {
				return err
			}
		}
		if err := require(tok, org, permWrite, locID); err != nil {
			return err
		}
		up, err := parseUpload(r)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		f := &callrec.AnnouncementFile{ID: uuid.NewString(), OrgID: org.ID, LocationID: locID, Name: up.name, FileName: up.fileName, Created: now}
		if f.Name == "" {
			f.Name = defaultName(up.fileName)
		}
		f.BlobKey = announcementKey(org.ID, f.ID)
		if f.Size, err = s.blobs.Put(ctx, f.BlobKey, bytes.NewReader(up.data)); err != nil {
			return fmt.Errorf("api: store announcement audio: %w", err)
		}
		err = s.store.Update(ctx, func(tx directory.Tx) error {
			if atLoc { // the location may have gone meanwhile
				if _, err := directory.Locations.Get(ctx, tx, org.ID, locID); err != nil {
					return notFoundThing("Location", r.PathValue("locationId"))
				}
			}
			if err := directory.AnnouncementFiles.Put(ctx, tx, f); err != nil {
				return fmt.Errorf("api: announcement file: %w", err)
			}
			return s.audit(ctx, tx, tok, org.ID, "create", auditAnnouncement, f.ID, nil, f)
		})
		if err != nil {
			s.dropBlob(ctx, f.BlobKey)
			return err
		}
		writeJSON(w, http.StatusCreated, announcementIDJSON{ID: webexID(idAnnouncement, f.ID)})
		return nil
	}
}

// replaceAnnouncement is PUT .../announcements/{announcementId}: the new
// audio goes under a new key, so a failure keeps the old file whole and
// the call plane's cache never serves the old audio for the new file.
func (s *server) replaceAnnouncement(atLoc bool) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
		ctx := r.Context()
		var id string
		err := s.store.View(ctx, func(tx directory.Tx) error {
			f, err := loadAnnouncement(ctx, tx, r, tok, org, atLoc, permWrite)
			if err == nil {
				id = f.ID
			}
			return err
		})
		if err != nil {
			return err
		}
		up, err := parseUpload(r)
		if err != nil {
			return err
		}
		var old string
		key := announcementKey(org.ID, id)
		size, err := s.blobs.Put(ctx, key, bytes.NewReader(up.data))
		if err != nil {
			return fmt.Errorf("api: store announcement audio: %w", err)
		}
		err = s.store.Update(ctx, func(tx directory.Tx) error {
			f, err := loadAnnouncement(ctx, tx, r, tok, org, atLoc, permWrite)
			if err != nil {
				return err
			}
			before := *f
			old = f.BlobKey
			f.BlobKey, f.Size, f.FileName, f.Updated = key, size, up.fileName, s.now().UTC()
			if up.name != "" {
				f.Name = up.name
			}
			if err := directory.AnnouncementFiles.Put(ctx, tx, f); err != nil {
				return fmt.Errorf("api: announcement file: %w", err)
			}
			return s.audit(ctx, tx, tok, org.ID, "update", auditAnnouncement, f.ID, before, f)
		})
		if err != nil {
			s.dropBlob(ctx, key)
			return err
		}
		if old != "" && old != key {
			s.dropBlob(ctx, old)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// deleteAnnouncement is DELETE .../announcements/{announcementId}: 409
// while a compliance or recording announcement setting plays the file.
func (s *server) deleteAnnouncement(atLoc bool) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
		ctx := r.Context()
		return s.deleteWithBlob(ctx, w, func(tx directory.Tx) (string, error) {
			f, err := loadAnnouncement(ctx, tx, r, tok, org, atLoc, permWrite)
			if err != nil {
				return "", err
			}
			refs, err := announcementRefs(ctx, tx, org, f.ID)
			if err != nil {
				return "", err
			}
			if len(refs) > 0 {
				var uses []string
				for _, ref := range refs {
					where := "the organization's"
					if ref.LocationName != "" {
						where = "location " + quote(ref.LocationName) + "'s"
					}
					uses = append(uses, where+" "+ref.Name)
				}
				slices.Sort(uses)
				return "", conflictf("Announcement %s is in use by %s; choose another announcement there first", quote(f.Name), strings.Join(uses, ", "))
			}
			if err := tx.Delete(ctx, directory.AnnouncementFiles.Name, f.ID); err != nil {
				return "", fmt.Errorf("api: announcement file: %w", err)
			}
			return f.BlobKey, s.audit(ctx, tx, tok, org.ID, "delete", auditAnnouncement, f.ID, f, nil)
		})
	}
}

// deleteWithBlob runs del, which deletes a document holding audio and
// returns its blob's key, in one transaction; once that committed the
// blob is dropped and the answer is 204 No Content. A failed del keeps
// both.
func (s *server) deleteWithBlob(ctx context.Context, w http.ResponseWriter, del func(directory.Tx) (string, error)) error {
	var key string
	err := s.store.Update(ctx, func(tx directory.Tx) error {
		var err error
		key, err = del(tx)
		return err
	})
	if err != nil {
		return err
	}
	s.dropBlob(ctx, key)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
