package guide

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestConversations: a transcript takes the code blocks since the one
// before it, each named (main.bot, the script a first line names, a data
// file's info string); blocks of other languages and prose are not files.
func TestConversations(t *testing.T) {
	md := "# Guide\n\n```ruby\ndialog main do\nend\n```\n\n```ruby\n# master.bot:\ndialog main do\nend\n```\n\n" +
		"```json faq.json\n{\"a\": 1}\n```\n\n```sh\nbotserver serve\n```\n\n```\nann> hi\nann@~room< hello\n@wait 5m\nbob+\n```\n\n" +
		"```\nnot a transcript\n```\n\n```\n# alone\nann> hi\n```\n"
	path := filepath.Join(t.TempDir(), "guide.md")
	if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Conversations(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Conversation{
		{Line: 22, Transcript: "ann> hi\nann@~room< hello\n@wait 5m\nbob+\n", Files: map[string]string{
			"main.bot": "dialog main do\nend\n", "master.bot": "# master.bot:\ndialog main do\nend\n", "faq.json": "{\"a\": 1}\n"}},
		{Line: 33, Transcript: "# alone\nann> hi\n", Files: map[string]string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	c := got[0]
	if !reflect.DeepEqual(c.Users(), []string{"ann", "bob"}) || !c.InGroup() || !reflect.DeepEqual(c.Scripts(), []string{"main.bot", "master.bot"}) {
		t.Errorf("users %v, in a group %v, scripts %v; want ann and bob, true, main.bot and master.bot", c.Users(), c.InGroup(), c.Scripts())
	}
	if got[1].InGroup() || !reflect.DeepEqual(got[1].Users(), []string{"ann"}) {
		t.Errorf("second: users %v, in a group %v", got[1].Users(), got[1].InGroup())
	}
	if _, err := Conversations(filepath.Join(t.TempDir(), "missing.md")); err == nil {
		t.Error("a missing guide: no error")
	}
}

// TestMistypedTranscript: a block with a user's line and a line that is
// not a transcript line is refused with its place, not taken for prose
// and left untested; user names are those botserver test accepts.
func TestMistypedTranscript(t *testing.T) {
	dir := t.TempDir()
	write := func(md string) string {
		path := filepath.Join(dir, "guide.md")
		if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	path := write("```ruby\ndialog main do\nend\n```\n\n```\nalice> hi\nalice>hello\n```\n")
	_, err := Conversations(path)
	if want := "guide: " + path + `:8: "alice>hello" in a transcript is not a transcript line (the transcript would be left untested)`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	got, err := Conversations(write("```ruby\ndialog main do\nend\n```\n\n```\nAlice_2> hi\nAlice_2< hello\n```\n"))
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0].Users(), []string{"Alice_2"}) {
		t.Errorf("got %+v %v, want Alice_2's transcript", got, err)
	}
}
