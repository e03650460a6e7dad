#!/usr/bin/env bash
# make-prompts.sh: makes the announcement prompts the call plane plays
# (issue 5 point 4; rules R17..R28 and X1) and the prompts of the call
# features (issue 5 point 1: call queue hold, auto attendant greeting,
# voicemail), and writes them to
# media/prompt/audio/<lang>/<kind>.wav, which package media/prompt embeds.
#
# How to run (from anywhere in the repository):
#
#   apt-get install espeak-ng sox     # Debian bookworm: espeak-ng 1.51, SoX 14.4.2
#   scripts/make-prompts.sh
#   go test ./media/prompt/           # checks every kind in every language
#
# Then commit media/prompt/audio/. The tests and the binary only read the
# committed files: neither espeak-ng nor sox is needed to build or test.
#
# Output: 8 kHz mono WAV, leading and trailing silence trimmed,
# peak-normalised to -3 dBFS, at most MAX_SECONDS long (the script fails if
# a phrase is longer: shorten its wording). The samples are G.711 mu-law
# (WAVE_FORMAT_MULAW, 8 bits) rather than 16-bit linear PCM: that halves
# the size (14 languages x 7 kinds fit in ~1.4 MB instead of ~2.9 MB), it
# is the telephone network's own encoding (a PCMU leg gets exactly these
# bytes), and media/prompt reads both. Set ENCODING=pcm16 to make 16-bit
# linear PCM instead.
#
# Deterministic and idempotent: the voice, speed, pitch, amplitude and word
# gap are pinned, sox runs without dither (-D) and with a fixed resampler,
# and the output directory is rebuilt from scratch on every run, so the same
# espeak-ng and sox versions give the same bytes. Different versions of
# either tool may give slightly different audio; that is fine, but commit
# the regenerated files together.
#
# The wording is ours, written for each language; fr_CA and es_MX use
# regional wording on the closest espeak-ng voice (fr-fr has no Canadian
# variant; es-419 is Latin American Spanish). ja_JP is written in kana
# because espeak-ng reads kanji as character names.
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=media/prompt/audio
SPEED=170       # words per minute (espeak-ng default 175)
PITCH=45        # 0..99, espeak-ng default 50
AMPLITUDE=100   # espeak-ng default; normalised by sox afterwards anyway
WORDGAP=0       # extra pause between words, 10 ms units
MAX_SECONDS=4.2 # "each at most ~4 s" (the announcements of a recorded call)
# The call-flow prompts (queue, greeting, voicemail) are whole sentences a
# caller waits through anyway; they may be longer.
LONG_MAX_SECONDS=9
ENCODING=${ENCODING:-mulaw} # mulaw (8-bit G.711) or pcm16
case "$ENCODING" in
  mulaw) FORMAT=(-b 8 -e u-law) ;;
  pcm16) FORMAT=(-b 16 -e signed-integer) ;;
  *) echo "make-prompts: ENCODING must be mulaw or pcm16, not $ENCODING" >&2; exit 1 ;;
esac

for tool in espeak-ng sox soxi; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "make-prompts: $tool not found; apt-get install espeak-ng sox" >&2
    exit 1
  }
done

# lang|espeak-ng voice|kind|text. Kinds are the constants of media/prompt.
PROMPTS=$(cat <<'EOF'
en_US|en-us|compliance|This call may be recorded.
en_US|en-us|start|This call is now being recorded.
en_US|en-us|stop|Recording stopped.
en_US|en-us|pause|Recording paused.
en_US|en-us|resume|Recording resumed.
en_US|en-us|failureProceed|This call cannot be recorded.
en_US|en-us|failureEnd|This call cannot be recorded and will now end.
en_US|en-us|queue|Please hold. Your call will be answered by the next available agent.
en_US|en-us|greeting|Welcome. Please enter the extension of the person you want to reach, followed by the hash key.
en_US|en-us|voicemail|The person you are calling is not available. Please leave a message after the tone.
en_GB|en-gb|compliance|Please note, this call may be recorded.
en_GB|en-gb|start|This call is now being recorded.
en_GB|en-gb|stop|Recording has stopped.
en_GB|en-gb|pause|Recording paused.
en_GB|en-gb|resume|Recording resumed.
en_GB|en-gb|failureProceed|This call cannot be recorded.
en_GB|en-gb|failureEnd|This call cannot be recorded and will now end.
en_GB|en-gb|queue|Please hold. Your call will be answered by the next available agent.
en_GB|en-gb|greeting|Welcome. Please enter the extension of the person you wish to reach, followed by the hash key.
en_GB|en-gb|voicemail|The person you are calling is not available. Please leave a message after the tone.
da_DK|da|compliance|Denne samtale kan blive optaget.
da_DK|da|start|Samtalen bliver nu optaget.
da_DK|da|stop|Optagelsen er stoppet.
da_DK|da|pause|Optagelsen er sat på pause.
da_DK|da|resume|Optagelsen er genoptaget.
da_DK|da|failureProceed|Samtalen kan ikke optages.
da_DK|da|failureEnd|Samtalen kan ikke optages og afsluttes nu.
da_DK|da|queue|Vent venligst. Dit opkald besvares af den næste ledige medarbejder.
da_DK|da|greeting|Velkommen. Indtast lokalnummeret på den person, du vil tale med, efterfulgt af firkant.
da_DK|da|voicemail|Den person, du ringer til, er ikke tilgængelig. Læg venligst en besked efter tonen.
de_DE|de|compliance|Dieses Gespräch kann aufgezeichnet werden.
de_DE|de|start|Das Gespräch wird jetzt aufgezeichnet.
de_DE|de|stop|Aufzeichnung beendet.
de_DE|de|pause|Aufzeichnung angehalten.
de_DE|de|resume|Aufzeichnung fortgesetzt.
de_DE|de|failureProceed|Das Gespräch kann nicht aufgezeichnet werden.
de_DE|de|failureEnd|Das Gespräch kann nicht aufgezeichnet werden und wird beendet.
de_DE|de|queue|Bitte warten Sie. Ihr Anruf wird vom nächsten freien Mitarbeiter entgegengenommen.
de_DE|de|greeting|Willkommen. Bitte geben Sie die Durchwahl der gewünschten Person ein, gefolgt von der Rautetaste.
de_DE|de|voicemail|Der gewünschte Gesprächspartner ist nicht erreichbar. Bitte hinterlassen Sie nach dem Signalton eine Nachricht.
fr_FR|fr-fr|compliance|Cet appel peut être enregistré.
fr_FR|fr-fr|start|Cet appel est maintenant enregistré.
fr_FR|fr-fr|stop|Enregistrement arrêté.
fr_FR|fr-fr|pause|Enregistrement en pause.
fr_FR|fr-fr|resume|Enregistrement repris.
fr_FR|fr-fr|failureProceed|Cet appel ne peut pas être enregistré.
fr_FR|fr-fr|failureEnd|Cet appel ne peut pas être enregistré et va se terminer.
fr_FR|fr-fr|queue|Veuillez patienter. Votre appel sera pris par le prochain conseiller disponible.
fr_FR|fr-fr|greeting|Bienvenue. Veuillez composer le numéro de poste de la personne que vous souhaitez joindre, suivi de la touche dièse.
fr_FR|fr-fr|voicemail|Votre correspondant n'est pas disponible. Veuillez laisser un message après le signal sonore.
fr_CA|fr-fr|compliance|Cet appel pourrait être enregistré.
fr_CA|fr-fr|start|L'enregistrement de l'appel est commencé.
fr_CA|fr-fr|stop|L'enregistrement est arrêté.
fr_CA|fr-fr|pause|L'enregistrement est en pause.
fr_CA|fr-fr|resume|L'enregistrement a repris.
fr_CA|fr-fr|failureProceed|Impossible d'enregistrer cet appel.
fr_CA|fr-fr|failureEnd|Impossible d'enregistrer cet appel. L'appel va prendre fin.
fr_CA|fr-fr|queue|Veuillez patienter. Votre appel sera traité par le prochain agent disponible.
fr_CA|fr-fr|greeting|Bienvenue. Veuillez entrer le numéro de poste de la personne que vous désirez joindre, suivi du carré.
fr_CA|fr-fr|voicemail|La personne que vous tentez de joindre n'est pas disponible. Veuillez laisser un message après le bip.
es_ES|es|compliance|Esta llamada puede ser grabada.
es_ES|es|start|Esta llamada se está grabando.
es_ES|es|stop|Grabación detenida.
es_ES|es|pause|Grabación en pausa.
es_ES|es|resume|Grabación reanudada.
es_ES|es|failureProceed|No se puede grabar esta llamada.
es_ES|es|failureEnd|No se puede grabar esta llamada. La llamada finalizará.
es_ES|es|queue|Por favor, espere. Su llamada será atendida por el próximo agente disponible.
es_ES|es|greeting|Bienvenido. Marque la extensión de la persona con la que desea hablar, seguida de la tecla almohadilla.
es_ES|es|voicemail|La persona a la que llama no está disponible. Por favor, deje un mensaje después de la señal.
es_MX|es-419|compliance|Esta llamada podría ser grabada.
es_MX|es-419|start|Esta llamada ya se está grabando.
es_MX|es-419|stop|La grabación se detuvo.
es_MX|es-419|pause|La grabación está en pausa.
es_MX|es-419|resume|La grabación continúa.
es_MX|es-419|failureProceed|No es posible grabar esta llamada.
es_MX|es-419|failureEnd|No es posible grabar esta llamada. Se va a colgar.
es_MX|es-419|queue|Por favor espere. Su llamada será atendida por el siguiente agente disponible.
es_MX|es-419|greeting|Bienvenido. Marque la extensión de la persona que busca, seguida de la tecla de gato.
es_MX|es-419|voicemail|La persona a la que llama no está disponible. Por favor deje su mensaje después del tono.
it_IT|it|compliance|Questa chiamata potrebbe essere registrata.
it_IT|it|start|La registrazione della chiamata è iniziata.
it_IT|it|stop|Registrazione interrotta.
it_IT|it|pause|Registrazione in pausa.
it_IT|it|resume|Registrazione ripresa.
it_IT|it|failureProceed|Questa chiamata non può essere registrata.
it_IT|it|failureEnd|Questa chiamata non può essere registrata e verrà chiusa.
it_IT|it|queue|Resti in linea. La sua chiamata sarà gestita dal primo operatore disponibile.
it_IT|it|greeting|Benvenuto. Digiti l'interno della persona che desidera contattare, seguito dal tasto cancelletto.
it_IT|it|voicemail|La persona chiamata non è disponibile. Lasci un messaggio dopo il segnale acustico.
nl_NL|nl|compliance|Dit gesprek kan worden opgenomen.
nl_NL|nl|start|Dit gesprek wordt nu opgenomen.
nl_NL|nl|stop|De opname is gestopt.
nl_NL|nl|pause|De opname is gepauzeerd.
nl_NL|nl|resume|De opname is hervat.
nl_NL|nl|failureProceed|Dit gesprek kan niet worden opgenomen.
nl_NL|nl|failureEnd|Dit gesprek kan niet worden opgenomen en wordt beëindigd.
nl_NL|nl|queue|Een ogenblik geduld. Uw gesprek wordt beantwoord door de eerstvolgende beschikbare medewerker.
nl_NL|nl|greeting|Welkom. Toets het toestelnummer van de persoon die u wilt bereiken, gevolgd door het hekje.
nl_NL|nl|voicemail|De persoon die u belt is niet bereikbaar. Spreek na de toon een bericht in.
sv_SE|sv|compliance|Samtalet kan komma att spelas in.
sv_SE|sv|start|Samtalet spelas nu in.
sv_SE|sv|stop|Inspelningen har stoppats.
sv_SE|sv|pause|Inspelningen är pausad.
sv_SE|sv|resume|Inspelningen har återupptagits.
sv_SE|sv|failureProceed|Samtalet kan inte spelas in.
sv_SE|sv|failureEnd|Samtalet kan inte spelas in och avslutas nu.
sv_SE|sv|queue|Var god vänta. Ditt samtal besvaras av nästa lediga handläggare.
sv_SE|sv|greeting|Välkommen. Ange anknytningen till den person du söker, följt av fyrkant.
sv_SE|sv|voicemail|Personen du söker är inte tillgänglig. Lämna ett meddelande efter tonen.
nb_NO|nb|compliance|Denne samtalen kan bli tatt opp.
nb_NO|nb|start|Samtalen blir nå tatt opp.
nb_NO|nb|stop|Opptaket er stoppet.
nb_NO|nb|pause|Opptaket er satt på pause.
nb_NO|nb|resume|Opptaket fortsetter.
nb_NO|nb|failureProceed|Samtalen kan ikke tas opp.
nb_NO|nb|failureEnd|Samtalen kan ikke tas opp og avsluttes nå.
nb_NO|nb|queue|Vennligst vent. Samtalen din blir besvart av neste ledige medarbeider.
nb_NO|nb|greeting|Velkommen. Tast internnummeret til personen du vil nå, etterfulgt av firkant.
nb_NO|nb|voicemail|Personen du ringer er ikke tilgjengelig. Legg igjen en beskjed etter tonen.
pt_BR|pt-br|compliance|Esta ligação pode ser gravada.
pt_BR|pt-br|start|Esta ligação está sendo gravada.
pt_BR|pt-br|stop|Gravação encerrada.
pt_BR|pt-br|pause|Gravação pausada.
pt_BR|pt-br|resume|Gravação retomada.
pt_BR|pt-br|failureProceed|Não é possível gravar esta ligação.
pt_BR|pt-br|failureEnd|Não é possível gravar esta ligação. Ela será encerrada.
pt_BR|pt-br|queue|Por favor, aguarde. Sua ligação será atendida pelo próximo atendente disponível.
pt_BR|pt-br|greeting|Bem-vindo. Digite o ramal da pessoa com quem deseja falar, seguido da tecla jogo da velha.
pt_BR|pt-br|voicemail|A pessoa para quem você ligou não está disponível. Por favor, deixe uma mensagem após o sinal.
ja_JP|ja|compliance|このつうわは ろくおん されることが あります。
ja_JP|ja|start|ろくおんを かいし しました。
ja_JP|ja|stop|ろくおんを ていし しました。
ja_JP|ja|pause|ろくおんを いちじ ていし しました。
ja_JP|ja|resume|ろくおんを さいかい しました。
ja_JP|ja|failureProceed|このつうわは ろくおん できません。
ja_JP|ja|failureEnd|このつうわは ろくおん できないため、しゅうりょう します。
ja_JP|ja|queue|しょうしょう おまちください。 てが あきしだい たんとうしゃが おうたい します。
ja_JP|ja|greeting|ようこそ。 おつなぎする かたの ないせん ばんごうを にゅうりょく し、 さいごに シャープを おしてください。
ja_JP|ja|voicemail|おかけになった かたは ただいま でられません。 はっしんおんの あとに メッセージを どうぞ。
EOF
)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/audio"

while IFS='|' read -r lang voice kind text; do
  [ -n "$lang" ] || continue
  mkdir -p "$tmp/audio/$lang"
  raw="$tmp/raw.wav"
  out="$tmp/audio/$lang/$kind.wav"
  # -w: write a WAV file (no sound device); -z: no pause after the last sentence.
  espeak-ng -z -v "$voice" -s "$SPEED" -p "$PITCH" -a "$AMPLITUDE" -g "$WORDGAP" -w "$raw" -- "$text"
  # Trim silence at both ends (below -45 dBFS), resample with sox's
  # high-quality linear-phase resampler, then fade 5 ms in and 10 ms out so
  # the cut edges do not click, and peak-normalise to -3 dBFS. -D: no
  # dither, so the output is a pure function of the input.
  sox -D -V1 "$raw" -r 8000 -c 1 "${FORMAT[@]}" "$out" \
    silence 1 0.01 -45d reverse silence 1 0.01 -45d reverse \
    rate -h -a 8000 \
    fade h 0.005 reverse fade h 0.01 reverse \
    norm -3
  secs=$(soxi -D "$out")
  max=$MAX_SECONDS
  case "$kind" in queue|greeting|voicemail) max=$LONG_MAX_SECONDS ;; esac
  if awk -v s="$secs" -v m="$max" 'BEGIN{exit !(s > m || s < 0.3)}'; then
    echo "make-prompts: $lang/$kind is ${secs}s (allowed 0.3..${max}s): shorten \"$text\"" >&2
    exit 1
  fi
  printf '%-6s %-15s %5.2fs  %s\n' "$lang" "$kind" "$secs" "$text"
done <<<"$PROMPTS"

rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
cp -r "$tmp/audio" "$OUT"
du -sh "$OUT"
