package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"botserver"
	"botserver/actors"
	"botserver/bots"
	"botserver/config"
	"botserver/coordinators"
	"botserver/persistence"
	"botserver/platforms/console"
)

// runChat talks to one bot in the terminal, in-process, over a real store:
// a fresh one in a temporary folder, or -data's (which keeps the
// conversation from one chat to the next).
func runChat(ctx context.Context, args []string, std stdio) int {
	fs := newFlags("chat", std)
	configPath := fs.String("config", "", "the config file whose bots BOT names (default: the bots under scripts/examples)")
	dataDir := fs.String("data", "", "keep the conversation in this data dir (default: a fresh one, removed at the end; not the dir of a running server)")
	user := fs.String("user", "me", "your name in the conversation")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(std.err, "usage: botserver chat [-config FILE] [-data DIR] [-user NAME] BOT")
		return 2
	}
	src, err := chatSource(*configPath, fs.Arg(0))
	if err != nil {
		fmt.Fprintln(std.err, "botserver chat:", err)
		return 1
	}
	if err := chat(ctx, src, *dataDir, *user, std); err != nil {
		fmt.Fprintln(std.err, "botserver chat:", err)
		return 1
	}
	return 0
}

// chatSource finds BOT: a bot of the config by id, or a bot folder.
func chatSource(configPath, bot string) (*bots.Source, error) {
	if st, err := os.Stat(filepath.Join(bot, "main.bot")); err == nil && !st.IsDir() {
		return &bots.Source{ID: chatID(bot), Dir: bot}, nil
	}
	cfg, err := config.Load(configPath, os.Getenv)
	if err != nil {
		return nil, err
	}
	for _, b := range cfg.Bots {
		if b.ID == bot {
			return &bots.Source{ID: b.ID, Name: b.Name, Dir: b.Scripts}, nil
		}
	}
	return nil, fmt.Errorf("no bot %q in the config, and no %s/main.bot", bot, bot)
}

// chatID makes a bot id of a folder's name.
func chatID(dir string) string {
	if id := filepath.Base(filepath.Clean(dir)); botserver.ValidBotID(id) {
		return id
	}
	return "bot"
}

func chat(ctx context.Context, src *bots.Source, dataDir, user string, std stdio) error {
	prog, _, err := src.Compile()
	if err != nil {
		return err
	}
	if dataDir == "" {
		if dataDir, err = os.MkdirTemp("", "botserver-chat-"); err != nil {
			return err
		}
		defer os.RemoveAll(dataDir)
	}
	db, err := persistence.Open(persistence.Options{Dir: dataDir})
	if err != nil {
		return fmt.Errorf("data dir %s: %w (is a server using it?)", dataDir, err)
	}
	defer db.Close()
	out := &lockedWriter{w: std.out}
	rt, err := actors.NewRuntime(actors.Options{Store: db, Coordinators: coordinators.Kinds(), Logger: slog.New(scriptErrors{out, prog}),
		ChatLink: coordinators.ChatLink("http://" + config.DefaultListen)}) // where `botserver serve` would serve it
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())
	if err := rt.AddBot(ctx, src.ID, prog); err != nil {
		return err
	}
	p := console.New(out)
	p.Prompt = "> "
	rt.RegisterPlatform(console.Name, p)
	fmt.Fprintf(out, "Talking to %s as %s. Type /quit to stop, /restart to start again; a number picks a quick reply.\n", src.ID, user)
	return p.Run(ctx, std.in, rt, botserver.Conversation{Bot: src.ID, Platform: console.Name, User: user})
}
