//! A deterministic synthetic league: the Phase 3 rows (`nba_analytics.player_game_summary`)
//! that the demo warehouse is seeded from.
//!
//! The same seed and seasons always give the same league. A season runs from the Tuesday
//! between October 18 and 24 to the second Sunday of April (2021-22: 2021-10-19 to
//! 2022-04-10), with 1230 games, 82 per team, an All-Star break (Friday to Wednesday around
//! the third Sunday of February), no games on Thanksgiving or Christmas Eve, and from 2 up
//! to 14 games a day. The first three weeks are busier than the rest, as teams play
//! about ten games in their first seventeen days.
//!
//! What makes the league useful to phase4-check is who appears when. PSZA skips a player
//! with fewer than [`MIN_PRIOR_GAMES`] games earlier in the season (INSUFFICIENT_DATA), and
//! DOMAIN.md gives the share of such players by week of the season. The league reproduces
//! those bands with three mechanisms:
//!
//! - **Roles.** Each game, a team's healthy players are ranked by quality: five starters
//!   and four rotation players appear in most games, the rest (bench, two-way and
//!   short-term players) in about half of them.
//! - **Churn.** Teams sign players on short-term contracts (10-day contracts, call-ups,
//!   hardship signings) all season, keep about three players with few games on hand from
//!   week 5 on, and now and then waive a player. Released players return to a free-agent
//!   pool and may sign elsewhere; their season games follow them. Injuries keep players
//!   out for spells of games. Rosters carry over between seasons with turnover.
//! - **Garbage time.** The bench minutes of each game are handed out so that each week's
//!   share of players with too few games stays near the middle of its band: when the week
//!   runs short-heavy, bench players who already have their ten games get the minutes;
//!   when it runs light, those who do not, and a coach may rest up to three established
//!   players. Weeks 1 and 2 are not steered (every player is short there anyway).
//!
//! [`insufficient_share_by_week`] measures the result from the rows alone.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The 30 teams, by abbreviation.
pub const TEAMS: [&str; 30] = [
    "ATL", "BOS", "BKN", "CHA", "CHI", "CLE", "DAL", "DEN", "DET", "GSW", "HOU", "IND", "LAC",
    "LAL", "MEM", "MIA", "MIL", "MIN", "NOP", "NYK", "OKC", "ORL", "PHI", "PHX", "POR", "SAC",
    "SAS", "TOR", "UTA", "WAS",
];

/// Games of the player earlier in the same season that PSZA needs before it processes him.
pub const MIN_PRIOR_GAMES: usize = 10;

/// Games in a season.
pub const GAMES_PER_SEASON: usize = 1230;

/// Season years this generator accepts; others are skipped.
pub const SEASON_YEARS: std::ops::RangeInclusive<i32> = 1946..=2098;

/// One row of `nba_analytics.player_game_summary`: one player in one game.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayerGame {
    pub game_id: String,
    pub game_date: NaiveDate,
    /// The year the season starts in: 2021 is 2021-22.
    pub season_year: i32,
    pub player_lookup: String,
    pub team_abbr: String,
    pub opponent_team_abbr: String,
    pub minutes_played: f64,
    pub points: i32,
    pub paint_attempts: i32,
    pub paint_makes: i32,
    pub mid_range_attempts: i32,
    pub mid_range_makes: i32,
    pub three_pt_attempts: i32,
    pub three_pt_makes: i32,
}

/// The calendar of one generated season.
#[derive(Clone, Debug, PartialEq)]
pub struct SeasonSummary {
    pub season_year: i32,
    pub first_game: NaiveDate,
    pub last_game: NaiveDate,
    /// Games played (two teams each).
    pub games: usize,
    /// The distinct game dates, sorted.
    pub game_dates: Vec<NaiveDate>,
    /// First and last day of the All-Star break, both without games.
    pub all_star_break: (NaiveDate, NaiveDate),
}

/// A generated league: every row of every requested season.
#[derive(Clone, Debug, PartialEq)]
pub struct League {
    /// Sorted by game_date, game_id, team_abbr, player_lookup.
    pub rows: Vec<PlayerGame>,
    /// One per generated season, in season order.
    pub seasons: Vec<SeasonSummary>,
}

/// Generates the seasons `seasons` (season years, e.g. `[2021, 2022]`) of a league from
/// `seed`. Seasons are played in order with rosters carried over; duplicates are played
/// once and years outside [`SEASON_YEARS`] are skipped.
pub fn generate_league(seed: u64, seasons: &[i32]) -> League {
    let mut years: Vec<i32> = seasons
        .iter()
        .copied()
        .filter(|y| SEASON_YEARS.contains(y))
        .collect();
    years.sort_unstable();
    years.dedup();

    let mut generator = Generator::new(seed);
    let mut rows = Vec::new();
    let mut summaries = Vec::new();
    for (i, &year) in years.iter().enumerate() {
        let Some(calendar) = SeasonCalendar::new(year) else {
            continue;
        };
        let schedule = generator.schedule(&calendar);
        generator.open_season(i == 0, calendar.first);
        let mut season_rows = generator.play_season(&calendar, &schedule);
        season_rows.sort_by(|a, b| {
            (a.game_date, &a.game_id, &a.team_abbr, &a.player_lookup).cmp(&(
                b.game_date,
                &b.game_id,
                &b.team_abbr,
                &b.player_lookup,
            ))
        });
        let mut game_dates: Vec<NaiveDate> = schedule.iter().map(|g| g.date).collect();
        game_dates.dedup();
        summaries.push(SeasonSummary {
            season_year: year,
            first_game: game_dates.first().copied().unwrap_or(calendar.first),
            last_game: game_dates.last().copied().unwrap_or(calendar.last),
            games: schedule.len(),
            game_dates,
            all_star_break: calendar.all_star_break,
        });
        rows.append(&mut season_rows);
    }
    League {
        rows,
        seasons: summaries,
    }
}

/// For each week of season `season_year` (week 1 starts on its first game date), the
/// player rows whose player had fewer than [`MIN_PRIOR_GAMES`] games earlier in that
/// season, and all player rows: `(week, short, appearing)`, weeks in order, weeks without
/// rows left out. A player's earlier games are his rows of the same season on earlier
/// dates, whatever his team.
pub fn insufficient_share_by_week(league: &League, season_year: i32) -> Vec<(u32, usize, usize)> {
    let mut by_date: BTreeMap<NaiveDate, Vec<&str>> = BTreeMap::new();
    for row in league.rows.iter().filter(|r| r.season_year == season_year) {
        by_date
            .entry(row.game_date)
            .or_default()
            .push(&row.player_lookup);
    }
    let Some(&first) = by_date.keys().next() else {
        return Vec::new();
    };
    let mut prior: HashMap<&str, usize> = HashMap::new();
    let mut weeks: BTreeMap<u32, (usize, usize)> = BTreeMap::new();
    for (date, players) in &by_date {
        let week = season_week(first, *date);
        let entry = weeks.entry(week).or_default();
        for player in players {
            if prior.get(player).copied().unwrap_or(0) < MIN_PRIOR_GAMES {
                entry.0 += 1;
            }
            entry.1 += 1;
        }
        for player in players {
            *prior.entry(player).or_default() += 1;
        }
    }
    weeks
        .into_iter()
        .map(|(week, (short, appearing))| (week, short, appearing))
        .collect()
}

/// Week of the season of `date`, 1 for the seven days starting on `first`.
fn season_week(first: NaiveDate, date: NaiveDate) -> u32 {
    u32::try_from((date - first).num_days().max(0) / 7 + 1).unwrap_or(u32::MAX)
}

/// The share of short players each week is steered to: the middle of the DOMAIN.md bands
/// (weeks 1-2: 90-100%, 3: 60-75%, 4: 40-50%, 5-8: 25-30%, 9 on: 15-25%). Weeks 1 and 2
/// are left alone: nobody has ten games yet.
fn target_share(week: u32) -> Option<f64> {
    match week {
        0..=2 => None,
        3 => Some(0.675),
        4 => Some(0.45),
        5..=8 => Some(0.275),
        _ => Some(0.20),
    }
}

// ---------------------------------------------------------------------------------------
// Calendar and schedule

/// Relative number of games by weekday, Monday first.
const WEEKDAY_WEIGHT: [f64; 7] = [0.85, 0.8, 1.25, 0.55, 1.2, 1.0, 0.8];
/// Days at the start of the season with more games than the rest.
const BUSY_START_DAYS: i64 = 21;
/// How much busier they are.
const BUSY_START_FACTOR: f64 = 1.42;
/// Most games on one day.
const MAX_GAMES_PER_DAY: usize = 14;
const OPENING_NIGHT_GAMES: usize = 2;
const CHRISTMAS_GAMES: usize = 5;

struct SeasonCalendar {
    year: i32,
    first: NaiveDate,
    last: NaiveDate,
    all_star_break: (NaiveDate, NaiveDate),
    /// Days inside the season without games besides the All-Star break.
    off_days: [NaiveDate; 2],
    christmas: NaiveDate,
}

impl SeasonCalendar {
    fn new(year: i32) -> Option<Self> {
        let october_18 = NaiveDate::from_ymd_opt(year, 10, 18)?;
        let to_tuesday = (7 + Weekday::Tue.num_days_from_monday()
            - october_18.weekday().num_days_from_monday())
            % 7;
        let first = october_18 + Duration::days(i64::from(to_tuesday));
        let last = NaiveDate::from_weekday_of_month_opt(year + 1, 4, Weekday::Sun, 2)?;
        let all_star_game = NaiveDate::from_weekday_of_month_opt(year + 1, 2, Weekday::Sun, 3)?;
        let all_star_break = (
            all_star_game - Duration::days(2),
            all_star_game + Duration::days(3),
        );
        let thanksgiving = NaiveDate::from_weekday_of_month_opt(year, 11, Weekday::Thu, 4)?;
        let christmas_eve = NaiveDate::from_ymd_opt(year, 12, 24)?;
        Some(Self {
            year,
            first,
            last,
            all_star_break,
            off_days: [thanksgiving, christmas_eve],
            christmas: NaiveDate::from_ymd_opt(year, 12, 25)?,
        })
    }

    fn game_dates(&self) -> Vec<NaiveDate> {
        self.first
            .iter_days()
            .take_while(|d| *d <= self.last)
            .filter(|d| !(self.all_star_break.0..=self.all_star_break.1).contains(d))
            .filter(|d| !self.off_days.contains(d))
            .collect()
    }
}

/// One scheduled game: `teams` are indices into [`TEAMS`].
struct ScheduledGame {
    game_id: String,
    date: NaiveDate,
    teams: [usize; 2],
    overtimes: u32,
}

/// Splits `total` minutes in proportion to `weights`, nobody above [`MAX_MINUTES`]
/// (the excess goes to the others), rounded to tenths, at least 0.5 each.
fn share_minutes(total: f64, weights: &[f64]) -> Vec<f64> {
    let mut minutes = vec![0.0; weights.len()];
    let mut capped = vec![false; weights.len()];
    for _ in 0..weights.len() {
        let capped_minutes: f64 = (0..weights.len())
            .filter(|&i| capped[i])
            .map(|i| minutes[i])
            .sum();
        let free_weight: f64 = (0..weights.len())
            .filter(|&i| !capped[i])
            .map(|i| weights[i])
            .sum();
        if free_weight <= 0.0 {
            break;
        }
        let scale = (total - capped_minutes) / free_weight;
        let mut newly_capped = false;
        for i in 0..weights.len() {
            if !capped[i] {
                minutes[i] = weights[i] * scale;
                if minutes[i] > MAX_MINUTES {
                    minutes[i] = MAX_MINUTES;
                    capped[i] = true;
                    newly_capped = true;
                }
            }
        }
        if !newly_capped {
            break;
        }
    }
    minutes
        .into_iter()
        .map(|m| ((m * 10.0).round() / 10.0).clamp(0.5, MAX_MINUTES))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Players and rosters

/// Most minutes one player plays in a game.
const MAX_MINUTES: f64 = 48.0;

/// Players each team keeps on standard contracts.
const STANDARD_ROSTER: usize = 14;
const STARTERS: usize = 5;
const ROTATION: usize = 4;
/// Chance that a healthy starter, rotation or bench player plays in a game.
const PLAY_STARTER: f64 = 0.95;
const PLAY_ROTATION: f64 = 0.82;
const PLAY_BENCH: f64 = 0.5;
/// Players with minutes per team and game.
const MIN_PLAYERS: usize = 8;
const MAX_PLAYERS: usize = 13;
/// Short-term contracts a team keeps open, and the daily chance it fills an empty one.
const SHORT_TERM_SLOTS: usize = 2;
const SHORT_TERM_SIGN_CHANCE: f64 = 0.25;
/// Short-term contracts last this many days.
const SHORT_TERM_DAYS: std::ops::RangeInclusive<i64> = 8..=30;
/// From week 5 a team keeps this many healthy players with few games, and signs one more
/// with this daily chance while it has fewer.
const FRESH_PLAYERS_WANTED: usize = 3;
const FRESH_SIGN_CHANCE: f64 = 0.5;
/// Below this many healthy players a team signs one at once (hardship).
const HARDSHIP_BELOW: usize = 10;
/// Daily chance a team waives one of its weakest standard players and signs another.
const WAIVE_CHANCE: f64 = 0.004;
/// Chance a signing comes from the free-agent pool rather than the outside.
const SIGN_FROM_POOL: f64 = 0.6;
/// Chance that a player who is in the top nine / the rest of a roster stays for the next season.
const KEEP_CORE: f64 = 0.85;
const KEEP_BENCH: f64 = 0.5;
/// Injuries: chance per game, mean games missed; preseason chance and games missed.
const INJURY_CHANCE: f64 = 0.012;
const INJURY_MEAN_GAMES: f64 = 6.0;
const PRESEASON_INJURY_CHANCE: f64 = 0.06;
const PRESEASON_INJURY_GAMES: std::ops::RangeInclusive<u32> = 5..=35;
/// Steering: how far (in rows) a week may run below its target before established players
/// rest (at most [`MAX_RESTED`] a game), or extra bench players with few games play.
const REST_BELOW: f64 = 2.0;
const MAX_RESTED: usize = 3;
const EXTRA_BELOW: f64 = 1.0;
/// How far (in rows) a week may run above its target before bench minutes are cut.
const CUT_ABOVE: f64 = 1.0;

const FIRST_NAMES: [&str; 96] = [
    "aaron", "adrian", "alec", "andre", "anthony", "austin", "bennett", "blake", "bobby",
    "brandon", "caleb", "cam", "carter", "chris", "cody", "cole", "collin", "corey", "damian",
    "dante", "darius", "dejon", "deandre", "derrick", "devin", "dillon", "donovan", "drew",
    "dylan", "elijah", "eric", "evan", "franz", "gary", "grant", "isaiah", "ivan", "jabari",
    "jalen", "jamal", "jaren", "jarrett", "jaylen", "jeremy", "jerome", "jordan", "josh", "julian",
    "justin", "kaleb", "keegan", "keldon", "kelly", "kevin", "khris", "kyle", "lamar", "lonnie",
    "luka", "malik", "marcus", "mason", "max", "mikal", "miles", "moses", "myles", "naz", "nick",
    "noah", "obi", "omar", "onyeka", "paolo", "pat", "quentin", "reggie", "rudy", "saddiq",
    "scottie", "seth", "shai", "terry", "theo", "tobias", "trae", "trey", "tyrese", "tyler",
    "victor", "walker", "wendell", "xavier", "zach", "zion", "jusuf",
];

const LAST_NAMES: [&str; 120] = [
    "adams",
    "allen",
    "anderson",
    "bailey",
    "baker",
    "banks",
    "barnes",
    "bell",
    "bennett",
    "bridges",
    "brooks",
    "brown",
    "bryant",
    "butler",
    "caldwell",
    "carter",
    "clark",
    "coleman",
    "collins",
    "cooper",
    "craig",
    "cunningham",
    "daniels",
    "davis",
    "dawson",
    "dixon",
    "douglas",
    "dunn",
    "edwards",
    "ellis",
    "evans",
    "fields",
    "fisher",
    "fleming",
    "ford",
    "foster",
    "franklin",
    "freeman",
    "gibson",
    "gordon",
    "graham",
    "grant",
    "gray",
    "green",
    "griffin",
    "hall",
    "hamilton",
    "harden",
    "harris",
    "hart",
    "hayes",
    "henderson",
    "hill",
    "holiday",
    "holmes",
    "howard",
    "hunter",
    "irving",
    "jackson",
    "james",
    "jenkins",
    "johnson",
    "jones",
    "jordan",
    "kennedy",
    "king",
    "knight",
    "lane",
    "lawson",
    "lee",
    "lewis",
    "lowry",
    "martin",
    "mason",
    "matthews",
    "mccoy",
    "miller",
    "mitchell",
    "monroe",
    "moore",
    "morris",
    "murray",
    "nelson",
    "owens",
    "parker",
    "patterson",
    "payton",
    "perry",
    "porter",
    "powell",
    "price",
    "randle",
    "reed",
    "richardson",
    "riley",
    "roberts",
    "robinson",
    "rose",
    "russell",
    "sanders",
    "scott",
    "simmons",
    "smart",
    "smith",
    "stewart",
    "thomas",
    "thompson",
    "tucker",
    "turner",
    "vaughn",
    "walker",
    "wallace",
    "ward",
    "warren",
    "washington",
    "watson",
    "wells",
    "white",
    "williams",
    "young",
];

struct Player {
    lookup: String,
    /// 0..=1; ranks players within a roster.
    quality: f64,
    /// Field-goal attempts per minute.
    usage: f64,
    three_share: f64,
    mid_share: f64,
    paint_pct: f64,
    mid_pct: f64,
    three_pct: f64,
    /// Free-throw attempts per field-goal attempt.
    free_throw_rate: f64,
    free_throw_pct: f64,
    team: Option<usize>,
    /// Team games still to miss.
    injured_games: u32,
    season_games: usize,
    /// Set for short-term contracts: the day the player is released.
    contract_end: Option<NaiveDate>,
}

/// A team's players in one game before the steering step.
struct TeamGame {
    game: usize,
    side: usize,
    /// (player, rank among the team's healthy players) of starters and rotation players
    /// who play unless rested.
    core: Vec<(usize, usize)>,
    /// The healthy bench, ranked.
    bench: Vec<(usize, usize)>,
    /// Bench players who would play without steering.
    bench_wanted: usize,
    /// Healthy starters and rotation players who sit this game unless the team would
    /// field fewer than [`MIN_PLAYERS`].
    sitting: Vec<(usize, usize)>,
}

/// Running count of one week's rows, to steer the short share.
#[derive(Default)]
struct WeekTally {
    week: u32,
    short: usize,
    rows: usize,
}

impl WeekTally {
    /// Short rows above (positive) or below the target share so far.
    fn excess(&self, target: f64) -> f64 {
        self.short as f64 - target * self.rows as f64
    }

    fn count(&mut self, season_games: usize) {
        self.rows += 1;
        if season_games < MIN_PRIOR_GAMES {
            self.short += 1;
        }
    }
}

struct Generator {
    rng: ChaCha8Rng,
    players: Vec<Player>,
    lookups: HashSet<String>,
    /// Free agents.
    pool: Vec<usize>,
    rosters: Vec<Vec<usize>>,
}

impl Generator {
    fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            players: Vec::new(),
            lookups: HashSet::new(),
            pool: Vec::new(),
            rosters: vec![Vec::new(); TEAMS.len()],
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random::<f64>() < p
    }

    /// A standard normal draw (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.rng.random::<f64>();
        let u2 = self.rng.random::<f64>();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    fn poisson(&mut self, mean: f64) -> i32 {
        let limit = (-mean.max(0.0)).exp();
        let mut product = self.rng.random::<f64>();
        let mut k = 0;
        while product > limit && k < 200 {
            product *= self.rng.random::<f64>();
            k += 1;
        }
        k
    }

    fn binomial(&mut self, n: i32, p: f64) -> i32 {
        (0..n).map(|_| i32::from(self.chance(p))).sum()
    }

    // -- schedule ------------------------------------------------------------------------

    /// Spreads [`GAMES_PER_SEASON`] games over the season's dates and picks the teams of
    /// each day, teams with fewer games first, avoiding back-to-backs where it can.
    fn schedule(&mut self, calendar: &SeasonCalendar) -> Vec<ScheduledGame> {
        let dates = calendar.game_dates();
        let per_day = self.games_per_day(calendar, &dates);

        let mut games = Vec::with_capacity(GAMES_PER_SEASON);
        let mut played = [0usize; TEAMS.len()];
        let mut last_played: [Option<NaiveDate>; TEAMS.len()] = [None; TEAMS.len()];
        let mut total_team_games = 0usize;
        for (&date, &count) in dates.iter().zip(&per_day) {
            let average = total_team_games as f64 / TEAMS.len() as f64;
            let mut priority: Vec<(f64, usize)> = (0..TEAMS.len())
                .map(|t| {
                    let mut p = average - played[t] as f64 + 0.9 * self.rng.random::<f64>();
                    if last_played[t] == date.pred_opt() {
                        p -= 0.6;
                    }
                    (p, t)
                })
                .collect();
            priority.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut teams: Vec<usize> = priority.iter().take(2 * count).map(|p| p.1).collect();
            teams.shuffle(&mut self.rng);
            for pair in teams.chunks_exact(2) {
                let overtimes = match self.rng.random::<f64>() {
                    x if x < 0.01 => 2,
                    x if x < 0.06 => 1,
                    _ => 0,
                };
                games.push(ScheduledGame {
                    game_id: format!(
                        "002{:02}{:05}",
                        calendar.year.rem_euclid(100),
                        games.len() + 1
                    ),
                    date,
                    teams: [pair[0], pair[1]],
                    overtimes,
                });
                for &t in pair {
                    played[t] += 1;
                    last_played[t] = Some(date);
                }
                total_team_games += 2;
            }
        }
        games
    }

    /// Games on each of `dates`: 2 on opening night, 5 on Christmas, the rest by weekday
    /// with noise and a busier start, 1 to 14, summing to [`GAMES_PER_SEASON`].
    fn games_per_day(&mut self, calendar: &SeasonCalendar, dates: &[NaiveDate]) -> Vec<usize> {
        let fixed = |d: NaiveDate| {
            if d == calendar.first {
                Some(OPENING_NIGHT_GAMES)
            } else if d == calendar.christmas {
                Some(CHRISTMAS_GAMES)
            } else {
                None
            }
        };
        let weights: Vec<Option<f64>> = dates
            .iter()
            .map(|&d| {
                let early = (d - calendar.first).num_days() < BUSY_START_DAYS;
                let noise = if early {
                    0.9 + 0.2 * self.rng.random::<f64>()
                } else {
                    0.75 + 0.5 * self.rng.random::<f64>()
                };
                let weekday = WEEKDAY_WEIGHT[d.weekday().num_days_from_monday() as usize];
                let busy = if early { BUSY_START_FACTOR } else { 1.0 };
                fixed(d).is_none().then_some(weekday * noise * busy)
            })
            .collect();
        let fixed_total: usize = dates.iter().filter_map(|&d| fixed(d)).sum();
        let free_total = GAMES_PER_SEASON.saturating_sub(fixed_total) as f64;

        // Scale to the total, clamp to 1..=14, repeat so clamping does not lose games.
        let mut raw: Vec<f64> = weights.iter().map(|w| w.unwrap_or(0.0)).collect();
        for _ in 0..8 {
            let sum: f64 = raw.iter().sum();
            if sum <= 0.0 {
                break;
            }
            let scale = free_total / sum;
            for (r, w) in raw.iter_mut().zip(&weights) {
                if w.is_some() {
                    *r = (*r * scale).clamp(1.0, MAX_GAMES_PER_DAY as f64);
                }
            }
        }
        // Largest remainder rounding.
        let mut counts: Vec<usize> = raw.iter().map(|r| r.floor() as usize).collect();
        let free_days: Vec<usize> = (0..dates.len()).filter(|&i| weights[i].is_some()).collect();
        let mut missing = (free_total as usize)
            .saturating_sub(free_days.iter().map(|&i| counts[i]).sum::<usize>());
        let mut by_remainder = free_days.clone();
        by_remainder.sort_by(|&a, &b| {
            (raw[b] - raw[b].floor())
                .total_cmp(&(raw[a] - raw[a].floor()))
                .then(a.cmp(&b))
        });
        for &i in by_remainder.iter().cycle().take(4 * by_remainder.len()) {
            if missing == 0 {
                break;
            }
            if counts[i] < MAX_GAMES_PER_DAY {
                counts[i] += 1;
                missing -= 1;
            }
        }
        for (i, &d) in dates.iter().enumerate() {
            if let Some(n) = fixed(d) {
                counts[i] = n;
            }
        }
        counts
    }

    // -- rosters -------------------------------------------------------------------------

    fn fresh_lookup(&mut self) -> String {
        let mut attempts = 0;
        loop {
            let first = FIRST_NAMES[self.rng.random_range(0..FIRST_NAMES.len())];
            let last = LAST_NAMES[self.rng.random_range(0..LAST_NAMES.len())];
            let mut lookup = format!("{first}{last}");
            // Once the plain names run thin, add a second family name.
            if attempts >= 20 {
                lookup.push_str(LAST_NAMES[self.rng.random_range(0..LAST_NAMES.len())]);
            }
            if self.lookups.insert(lookup.clone()) {
                return lookup;
            }
            attempts += 1;
        }
    }

    fn new_player(&mut self, quality: f64) -> usize {
        let lookup = self.fresh_lookup();
        let mut draw = |lo: f64, hi: f64| lo + (hi - lo) * self.rng.random::<f64>();
        let player = Player {
            lookup,
            quality,
            usage: 0.2 + 0.25 * quality + draw(-0.04, 0.04),
            three_share: draw(0.12, 0.5),
            mid_share: draw(0.05, 0.28),
            paint_pct: draw(0.5, 0.66),
            mid_pct: draw(0.36, 0.48),
            three_pct: draw(0.28, 0.41),
            free_throw_rate: draw(0.12, 0.35),
            free_throw_pct: draw(0.62, 0.9),
            team: None,
            injured_games: 0,
            season_games: 0,
            contract_end: None,
        };
        self.players.push(player);
        self.players.len() - 1
    }

    /// Signs a player to team `team`: from the pool (someone with few games this season)
    /// or from outside. Short-term contracts end after [`SHORT_TERM_DAYS`].
    fn sign(&mut self, team: usize, short_term: bool, today: NaiveDate) {
        let candidates: Vec<usize> = (0..self.pool.len())
            .filter(|&i| self.players[self.pool[i]].season_games < MIN_PRIOR_GAMES)
            .collect();
        let id = if !candidates.is_empty() && self.chance(SIGN_FROM_POOL) {
            let pick = candidates[self.rng.random_range(0..candidates.len())];
            self.pool.swap_remove(pick)
        } else {
            let quality = if short_term {
                0.35 * self.rng.random::<f64>()
            } else {
                self.rng.random::<f64>().powf(1.5)
            };
            self.new_player(quality)
        };
        let contract_end =
            short_term.then(|| today + Duration::days(self.rng.random_range(SHORT_TERM_DAYS)));
        let player = &mut self.players[id];
        player.team = Some(team);
        player.injured_games = 0;
        player.contract_end = contract_end;
        self.rosters[team].push(id);
    }

    fn release(&mut self, id: usize) {
        let player = &mut self.players[id];
        if let Some(team) = player.team.take() {
            self.rosters[team].retain(|&p| p != id);
        }
        player.contract_end = None;
        self.pool.push(id);
    }

    /// The offseason: a new league gets fresh rosters; otherwise short-term players leave,
    /// others stay by role, and the holes are filled. Everyone starts the season with no
    /// games, a few of them injured.
    fn open_season(&mut self, new_league: bool, opening_night: NaiveDate) {
        for player in &mut self.players {
            player.season_games = 0;
            player.injured_games = 0;
        }
        for team in 0..TEAMS.len() {
            if !new_league {
                let mut ranked = self.rosters[team].clone();
                ranked.sort_by(|&a, &b| {
                    self.players[b]
                        .quality
                        .total_cmp(&self.players[a].quality)
                        .then(a.cmp(&b))
                });
                for (rank, id) in ranked.into_iter().enumerate() {
                    let keep = if self.players[id].contract_end.is_some() {
                        0.0
                    } else if rank < STARTERS + ROTATION {
                        KEEP_CORE
                    } else {
                        KEEP_BENCH
                    };
                    if !self.chance(keep) {
                        self.release(id);
                    }
                }
            }
            while self.rosters[team].len() < STANDARD_ROSTER {
                self.sign(team, false, opening_night);
            }
        }
        for id in 0..self.players.len() {
            let drift = 0.08 * self.normal();
            let player = &mut self.players[id];
            player.quality = (player.quality + drift).clamp(0.0, 1.0);
        }
        for team in 0..TEAMS.len() {
            for i in 0..self.rosters[team].len() {
                if self.chance(PRESEASON_INJURY_CHANCE) {
                    let games = self.rng.random_range(PRESEASON_INJURY_GAMES);
                    self.players[self.rosters[team][i]].injured_games = games;
                }
            }
        }
    }

    /// The day's roster moves of every team, before its games.
    fn make_roster_moves(&mut self, today: NaiveDate, week: u32) {
        for team in 0..TEAMS.len() {
            let expired: Vec<usize> = self.rosters[team]
                .iter()
                .copied()
                .filter(|&id| {
                    self.players[id]
                        .contract_end
                        .is_some_and(|end| end <= today)
                })
                .collect();
            for id in expired {
                self.release(id);
            }

            let roster = &self.rosters[team];
            let short_term = roster
                .iter()
                .filter(|&&id| self.players[id].contract_end.is_some())
                .count();
            let fresh = roster
                .iter()
                .filter(|&&id| {
                    let p = &self.players[id];
                    p.injured_games == 0 && p.season_games < MIN_PRIOR_GAMES
                })
                .count();
            let wanted = if week >= 5 { FRESH_PLAYERS_WANTED } else { 0 };
            let fill_slot = short_term < SHORT_TERM_SLOTS && self.chance(SHORT_TERM_SIGN_CHANCE);
            let top_up = !fill_slot
                && fresh < wanted
                && short_term < SHORT_TERM_SLOTS + 2
                && self.chance(FRESH_SIGN_CHANCE);
            if fill_slot || top_up {
                self.sign(team, true, today);
            }

            if self.chance(WAIVE_CHANCE) {
                let mut standard: Vec<usize> = self.rosters[team]
                    .iter()
                    .copied()
                    .filter(|&id| self.players[id].contract_end.is_none())
                    .collect();
                if !standard.is_empty() {
                    standard.sort_by(|&a, &b| {
                        self.players[a]
                            .quality
                            .total_cmp(&self.players[b].quality)
                            .then(a.cmp(&b))
                    });
                    let pick = self.rng.random_range(0..standard.len().min(6));
                    self.release(standard[pick]);
                    self.sign(team, false, today);
                }
            }

            let healthy = self.rosters[team]
                .iter()
                .filter(|&&id| self.players[id].injured_games == 0)
                .count();
            if healthy < HARDSHIP_BELOW {
                self.sign(team, true, today);
            }
        }
    }

    // -- games ---------------------------------------------------------------------------

    /// A team's available players for one game, ranked, with who would play unsteered.
    fn prepare_team_game(&mut self, game: usize, side: usize, team: usize) -> TeamGame {
        let mut healthy = Vec::with_capacity(self.rosters[team].len());
        for i in 0..self.rosters[team].len() {
            let id = self.rosters[team][i];
            if self.players[id].injured_games > 0 {
                self.players[id].injured_games -= 1;
                continue;
            }
            if self.chance(INJURY_CHANCE) {
                let games = -INJURY_MEAN_GAMES * (1.0 - self.rng.random::<f64>()).ln();
                self.players[id].injured_games = games as u32 + 1;
                continue;
            }
            healthy.push(id);
        }
        healthy.sort_by(|&a, &b| {
            self.players[b]
                .quality
                .total_cmp(&self.players[a].quality)
                .then(a.cmp(&b))
        });
        let mut core = Vec::new();
        let mut bench = Vec::new();
        let mut sitting = Vec::new();
        for (rank, &id) in healthy.iter().enumerate() {
            if rank < STARTERS + ROTATION {
                let p = if rank < STARTERS {
                    PLAY_STARTER
                } else {
                    PLAY_ROTATION
                };
                if self.chance(p) {
                    core.push((id, rank));
                } else {
                    sitting.push((id, rank));
                }
            } else {
                bench.push((id, rank));
            }
        }
        let bench_wanted = (0..bench.len()).filter(|_| self.chance(PLAY_BENCH)).count();
        TeamGame {
            game,
            side,
            core,
            bench,
            bench_wanted,
            sitting,
        }
    }

    /// Who of a team plays: the core (some rested when the week runs short of players
    /// with few games), then bench players chosen to steer the week toward `target`.
    fn choose_players(
        &mut self,
        team_game: &TeamGame,
        target: Option<f64>,
        tally: &mut WeekTally,
    ) -> Vec<(usize, usize)> {
        let mut playing = Vec::with_capacity(MAX_PLAYERS);
        let mut rested = Vec::new();
        for &(id, rank) in &team_game.core {
            let games = self.players[id].season_games;
            if let Some(t) = target
                && games >= MIN_PRIOR_GAMES
                && tally.excess(t) < -REST_BELOW
                && rested.len() < MAX_RESTED
            {
                rested.push((id, rank));
                continue;
            }
            tally.count(games);
            playing.push((id, rank));
        }

        let at_least = MIN_PLAYERS.saturating_sub(playing.len());
        let at_most = at_least.max(
            team_game
                .bench
                .len()
                .min(MAX_PLAYERS.saturating_sub(playing.len())),
        );
        let wanted = team_game.bench_wanted.clamp(at_least, at_most);
        match target {
            None => {
                let mut bench = team_game.bench.clone();
                bench.shuffle(&mut self.rng);
                for (id, rank) in bench.into_iter().take(wanted) {
                    tally.count(self.players[id].season_games);
                    playing.push((id, rank));
                }
            }
            Some(t) => {
                let (mut fresh, mut established): (Vec<_>, Vec<_>) = team_game
                    .bench
                    .iter()
                    .copied()
                    .partition(|(id, _)| self.players[*id].season_games < MIN_PRIOR_GAMES);
                fresh.shuffle(&mut self.rng);
                established.shuffle(&mut self.rng);
                for slot in 0..at_most {
                    let excess = tally.excess(t);
                    let pick = if slot >= wanted {
                        // Extra minutes only to pull the share up.
                        if excess < -EXTRA_BELOW {
                            fresh.pop()
                        } else {
                            None
                        }
                    } else if excess > 0.0 && !established.is_empty() {
                        established.pop()
                    } else if excess > CUT_ABOVE && slot >= at_least {
                        None
                    } else {
                        fresh.pop().or_else(|| established.pop())
                    };
                    let Some((id, rank)) = pick else {
                        break;
                    };
                    tally.count(self.players[id].season_games);
                    playing.push((id, rank));
                }
            }
        }
        // Never field fewer than the minimum while healthy players are available.
        let spare = rested.into_iter().chain(team_game.sitting.iter().copied());
        for (id, rank) in spare {
            if playing.len() >= MIN_PLAYERS {
                break;
            }
            tally.count(self.players[id].season_games);
            playing.push((id, rank));
        }
        playing
    }

    /// Minutes and shots of a team's players in one game.
    fn box_score(
        &mut self,
        game: &ScheduledGame,
        side: usize,
        season_year: i32,
        playing: &[(usize, usize)],
    ) -> Vec<PlayerGame> {
        let weights: Vec<f64> = playing
            .iter()
            .map(|&(_, rank)| {
                let (mean, spread) = if rank < STARTERS {
                    (33.0, 4.0)
                } else if rank < STARTERS + ROTATION {
                    (21.0, 5.0)
                } else {
                    (9.0, 4.0)
                };
                (mean + spread * self.normal()).max(2.0)
            })
            .collect();
        let minutes = share_minutes(240.0 + 25.0 * f64::from(game.overtimes), &weights);
        let team = TEAMS[game.teams[side]];
        let opponent = TEAMS[game.teams[1 - side]];

        let mut rows = Vec::with_capacity(playing.len());
        for (&(id, _), minutes) in playing.iter().zip(minutes) {
            let (usage, three_share, mid_share) = {
                let p = &self.players[id];
                (p.usage, p.three_share, p.mid_share)
            };
            let attempts = self.poisson(minutes * usage);
            let (mut paint_attempts, mut mid_range_attempts, mut three_pt_attempts) = (0, 0, 0);
            for _ in 0..attempts {
                let x = self.rng.random::<f64>();
                if x < three_share {
                    three_pt_attempts += 1;
                } else if x < three_share + mid_share {
                    mid_range_attempts += 1;
                } else {
                    paint_attempts += 1;
                }
            }
            let p = &self.players[id];
            let (paint_pct, mid_pct, three_pct, ft_rate, ft_pct) = (
                p.paint_pct,
                p.mid_pct,
                p.three_pct,
                p.free_throw_rate,
                p.free_throw_pct,
            );
            let paint_makes = self.binomial(paint_attempts, paint_pct);
            let mid_range_makes = self.binomial(mid_range_attempts, mid_pct);
            let three_pt_makes = self.binomial(three_pt_attempts, three_pct);
            let free_throw_attempts = self.poisson(f64::from(attempts) * ft_rate);
            let free_throws = self.binomial(free_throw_attempts, ft_pct);
            rows.push(PlayerGame {
                game_id: game.game_id.clone(),
                game_date: game.date,
                season_year,
                player_lookup: self.players[id].lookup.clone(),
                team_abbr: team.to_string(),
                opponent_team_abbr: opponent.to_string(),
                minutes_played: minutes,
                points: 2 * (paint_makes + mid_range_makes) + 3 * three_pt_makes + free_throws,
                paint_attempts,
                paint_makes,
                mid_range_attempts,
                mid_range_makes,
                three_pt_attempts,
                three_pt_makes,
            });
        }
        rows
    }

    fn play_season(
        &mut self,
        calendar: &SeasonCalendar,
        schedule: &[ScheduledGame],
    ) -> Vec<PlayerGame> {
        let mut rows = Vec::with_capacity(schedule.len() * 2 * 11);
        let mut tally = WeekTally::default();
        let mut day_start = 0;
        while day_start < schedule.len() {
            let today = schedule[day_start].date;
            let day_end = schedule[day_start..]
                .iter()
                .position(|g| g.date != today)
                .map_or(schedule.len(), |n| day_start + n);
            let week = season_week(calendar.first, today);
            if tally.week != week {
                tally = WeekTally {
                    week,
                    ..WeekTally::default()
                };
            }

            self.make_roster_moves(today, week);
            let mut team_games = Vec::with_capacity(2 * (day_end - day_start));
            for (game, scheduled) in schedule.iter().enumerate().take(day_end).skip(day_start) {
                for side in 0..2 {
                    team_games.push(self.prepare_team_game(game, side, scheduled.teams[side]));
                }
            }
            team_games.shuffle(&mut self.rng);
            let mut appeared = Vec::new();
            for team_game in &team_games {
                let playing = self.choose_players(team_game, target_share(week), &mut tally);
                let game = &schedule[team_game.game];
                rows.extend(self.box_score(game, team_game.side, calendar.year, &playing));
                appeared.extend(playing.iter().map(|&(id, _)| id));
            }
            for id in appeared {
                self.players[id].season_games += 1;
            }
            day_start = day_end;
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::sync::OnceLock;

    const SEEDS: [u64; 6] = [0, 1, 2, 3, 4, 20211019];
    const SEASONS: [i32; 4] = [2021, 2022, 2023, 2024];

    /// The leagues of every test seed, generated once.
    fn leagues() -> &'static [(u64, League)] {
        static LEAGUES: OnceLock<Vec<(u64, League)>> = OnceLock::new();
        LEAGUES.get_or_init(|| {
            SEEDS
                .iter()
                .map(|&seed| (seed, generate_league(seed, &SEASONS)))
                .collect()
        })
    }

    fn band(week: u32) -> (f64, f64) {
        match week {
            0..=2 => (0.90, 1.00),
            3 => (0.60, 0.75),
            4 => (0.40, 0.50),
            5..=8 => (0.25, 0.30),
            _ => (0.15, 0.25),
        }
    }

    fn season_rows(league: &League, year: i32) -> impl Iterator<Item = &PlayerGame> {
        league.rows.iter().filter(move |r| r.season_year == year)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn same_seed_gives_the_same_league() {
        let a = generate_league(7, &[2021, 2022]);
        let b = generate_league(7, &[2022, 2021]);
        assert!(!a.rows.is_empty());
        assert_eq!(a, b);
    }

    #[test]
    fn different_seeds_give_different_leagues() {
        let a = generate_league(7, &[2021]);
        let b = generate_league(8, &[2021]);
        assert_ne!(a.rows, b.rows);
        let players = |l: &League| -> BTreeSet<String> {
            l.rows.iter().map(|r| r.player_lookup.clone()).collect()
        };
        assert_ne!(players(&a), players(&b));
    }

    #[test]
    fn no_seasons_and_impossible_years_give_an_empty_league() {
        assert_eq!(generate_league(1, &[]).rows.len(), 0);
        let league = generate_league(1, &[i32::MAX, i32::MIN, 99_999]);
        assert!(league.rows.is_empty() && league.seasons.is_empty());
    }

    #[test]
    fn every_week_share_of_players_with_few_games_lands_in_its_band() {
        let mut failures = Vec::new();
        for (seed, league) in leagues() {
            for year in SEASONS {
                let table = insufficient_share_by_week(league, year);
                assert!(
                    table.len() >= 24,
                    "seed {seed} {year}: {} weeks",
                    table.len()
                );
                let bad: Vec<_> = table
                    .iter()
                    .filter(|(week, short, appearing)| {
                        let share = *short as f64 / *appearing as f64;
                        let (lo, hi) = band(*week);
                        !(lo..=hi).contains(&share)
                    })
                    .collect();
                if !bad.is_empty() {
                    let rendered: Vec<String> = table
                        .iter()
                        .map(|(w, s, a)| {
                            let (lo, hi) = band(*w);
                            format!(
                                "  week {w:>2}: {s:>5}/{a:>5} = {:5.1}%  (band {:.0}-{:.0}%)",
                                100.0 * *s as f64 / *a as f64,
                                100.0 * lo,
                                100.0 * hi
                            )
                        })
                        .collect();
                    failures.push(format!(
                        "seed {seed} season {year}:\n{}",
                        rendered.join("\n")
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn insufficient_share_counts_only_earlier_games_of_the_same_season() {
        let row = |d: NaiveDate, season: i32, player: &str| PlayerGame {
            game_id: format!("{d}"),
            game_date: d,
            season_year: season,
            player_lookup: player.into(),
            team_abbr: "ATL".into(),
            opponent_team_abbr: "BOS".into(),
            minutes_played: 10.0,
            points: 0,
            paint_attempts: 0,
            paint_makes: 0,
            mid_range_attempts: 0,
            mid_range_makes: 0,
            three_pt_attempts: 0,
            three_pt_makes: 0,
        };
        let first = date(2021, 10, 19);
        let mut rows = vec![row(date(2021, 6, 1), 2020, "veteran")];
        // "veteran" plays on 12 consecutive days, "rookie" only on the last one.
        for day in 0..12 {
            rows.push(row(first + Duration::days(day), 2021, "veteran"));
        }
        rows.push(row(first + Duration::days(11), 2021, "rookie"));
        let league = League {
            rows,
            seasons: Vec::new(),
        };
        // Week 1 (days 0-6): 7 rows, all short. Week 2 (days 7-11): days 7, 8, 9 short
        // (7, 8, 9 earlier games), day 10 (10 earlier) not, day 11: veteran not, rookie short.
        assert_eq!(
            insufficient_share_by_week(&league, 2021),
            vec![(1, 7, 7), (2, 4, 6)]
        );
        assert_eq!(insufficient_share_by_week(&league, 2020), vec![(1, 1, 1)]);
        assert!(insufficient_share_by_week(&league, 2019).is_empty());
    }

    #[test]
    fn every_season_has_about_1230_games_with_unique_ids() {
        for (seed, league) in leagues() {
            assert_eq!(league.seasons.len(), SEASONS.len());
            for summary in &league.seasons {
                let year = summary.season_year;
                let ids: BTreeSet<&str> = season_rows(league, year)
                    .map(|r| r.game_id.as_str())
                    .collect();
                assert!(
                    (1200..=1260).contains(&ids.len()),
                    "seed {seed} {year}: {} games",
                    ids.len()
                );
                assert_eq!(ids.len(), summary.games);
                let prefix = format!("002{:02}", year % 100);
                for id in &ids {
                    assert!(
                        id.len() == 10
                            && id.starts_with(&prefix)
                            && id.bytes().all(|b| b.is_ascii_digit()),
                        "bad game_id {id}"
                    );
                }
            }
            let all: BTreeSet<&str> = league.rows.iter().map(|r| r.game_id.as_str()).collect();
            let per_season: usize = league.seasons.iter().map(|s| s.games).sum();
            assert_eq!(all.len(), per_season, "game ids repeat across seasons");
        }
    }

    #[test]
    fn every_team_plays_78_to_86_games() {
        for (seed, league) in leagues() {
            for year in SEASONS {
                let games: BTreeSet<(&str, &str)> = season_rows(league, year)
                    .map(|r| (r.team_abbr.as_str(), r.game_id.as_str()))
                    .collect();
                for team in TEAMS {
                    let n = games.iter().filter(|(t, _)| *t == team).count();
                    assert!((78..=86).contains(&n), "seed {seed} {year} {team}: {n}");
                }
            }
        }
    }

    #[test]
    fn no_team_plays_twice_on_a_day_and_every_game_has_two_teams() {
        for (seed, league) in leagues() {
            let mut game_of: HashMap<(NaiveDate, &str), &str> = HashMap::new();
            let mut teams_of: HashMap<&str, BTreeSet<&str>> = HashMap::new();
            for r in &league.rows {
                let game = game_of
                    .entry((r.game_date, r.team_abbr.as_str()))
                    .or_insert(r.game_id.as_str());
                assert_eq!(
                    *game, r.game_id,
                    "seed {seed}: {} twice on {}",
                    r.team_abbr, r.game_date
                );
                assert_ne!(r.team_abbr, r.opponent_team_abbr);
                teams_of.entry(&r.game_id).or_default().insert(&r.team_abbr);
            }
            for (game, teams) in teams_of {
                assert_eq!(
                    teams.len(),
                    2,
                    "seed {seed}: game {game} has teams {teams:?}"
                );
            }
        }
    }

    #[test]
    fn no_games_on_all_star_break_or_holiday_off_days() {
        for (seed, league) in leagues() {
            let dates: BTreeSet<NaiveDate> = league.rows.iter().map(|r| r.game_date).collect();
            for summary in &league.seasons {
                let (start, end) = summary.all_star_break;
                assert_eq!((end - start).num_days(), 5, "a six-day break");
                assert_eq!(start.month(), 2);
                assert!(start.day() >= 12 && end.day() <= 28, "{start}..{end}");
                assert!(
                    dates.range(start..=end).next().is_none(),
                    "seed {seed}: games in the break"
                );
                // Games right before and after the break.
                assert!(dates.contains(&(start - Duration::days(1))));
                assert!(dates.contains(&(end + Duration::days(1))));
                let year = summary.season_year;
                let thanksgiving =
                    NaiveDate::from_weekday_of_month_opt(year, 11, Weekday::Thu, 4).unwrap();
                assert!(!dates.contains(&thanksgiving));
                assert!(!dates.contains(&date(year, 12, 24)));
                assert!(dates.contains(&date(year, 12, 25)));
            }
        }
    }

    #[test]
    fn seasons_run_from_late_october_to_mid_april() {
        for (_, league) in leagues() {
            let first_2021 = league
                .seasons
                .iter()
                .find(|s| s.season_year == 2021)
                .unwrap();
            assert_eq!(first_2021.first_game, date(2021, 10, 19));
            assert_eq!(first_2021.last_game, date(2022, 4, 10));
            for s in &league.seasons {
                assert_eq!(s.first_game.weekday(), Weekday::Tue);
                assert_eq!(s.first_game.month(), 10);
                assert!((18..=24).contains(&s.first_game.day()));
                assert_eq!(s.last_game.month(), 4);
                assert!((8..=14).contains(&s.last_game.day()));
                assert_eq!(s.game_dates.first(), Some(&s.first_game));
                assert_eq!(s.game_dates.last(), Some(&s.last_game));
                assert!(s.game_dates.windows(2).all(|w| w[0] < w[1]));
                let with_rows: Vec<NaiveDate> = {
                    let set: BTreeSet<NaiveDate> = season_rows(league, s.season_year)
                        .map(|r| r.game_date)
                        .collect();
                    set.into_iter().collect()
                };
                assert_eq!(with_rows, s.game_dates);
            }
        }
    }

    #[test]
    fn games_per_day_vary_from_a_couple_to_about_fourteen() {
        for (seed, league) in leagues() {
            for year in SEASONS {
                let mut per_date: BTreeMap<NaiveDate, BTreeSet<&str>> = BTreeMap::new();
                for r in season_rows(league, year) {
                    per_date.entry(r.game_date).or_default().insert(&r.game_id);
                }
                let counts: Vec<usize> = per_date.values().map(|g| g.len()).collect();
                let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
                assert!(
                    *min <= 3 && *max >= 12 && *max <= 15,
                    "seed {seed} {year}: {min}..{max}"
                );
                assert_eq!(counts[0], 2, "opening night has two games");
                let distinct: BTreeSet<usize> = counts.iter().copied().collect();
                assert!(distinct.len() >= 8, "seed {seed} {year}: {distinct:?}");
            }
        }
    }

    #[test]
    fn player_rows_per_team_and_date_are_plausible() {
        for (seed, league) in leagues() {
            let mut per_team_game: HashMap<(&str, &str), usize> = HashMap::new();
            let mut per_date: BTreeMap<NaiveDate, usize> = BTreeMap::new();
            for r in &league.rows {
                *per_team_game
                    .entry((r.game_id.as_str(), r.team_abbr.as_str()))
                    .or_default() += 1;
                *per_date.entry(r.game_date).or_default() += 1;
            }
            for ((game, team), n) in &per_team_game {
                assert!(
                    (MIN_PLAYERS..=MAX_PLAYERS).contains(n),
                    "seed {seed} {game} {team}: {n} players"
                );
            }
            let mean = league.rows.len() as f64 / per_team_game.len() as f64;
            assert!(
                (9.5..=11.5).contains(&mean),
                "seed {seed}: {mean:.2} players a team game"
            );
            for (d, n) in per_date {
                assert!(
                    (16..=15 * 2 * MAX_PLAYERS).contains(&n),
                    "seed {seed} {d}: {n} rows"
                );
            }
        }
    }

    #[test]
    fn stats_are_consistent() {
        for (seed, league) in leagues() {
            let mut minutes_per_team_game: HashMap<(&str, &str), f64> = HashMap::new();
            for r in &league.rows {
                assert!(
                    r.minutes_played > 0.0 && r.minutes_played <= 48.0,
                    "seed {seed}: {r:?}"
                );
                for (makes, attempts) in [
                    (r.paint_makes, r.paint_attempts),
                    (r.mid_range_makes, r.mid_range_attempts),
                    (r.three_pt_makes, r.three_pt_attempts),
                ] {
                    assert!(0 <= makes && makes <= attempts, "seed {seed}: {r:?}");
                }
                let free_throws =
                    r.points - 2 * (r.paint_makes + r.mid_range_makes) - 3 * r.three_pt_makes;
                assert!((0..=30).contains(&free_throws), "seed {seed}: {r:?}");
                assert!(r.points <= 80, "seed {seed}: {r:?}");
                assert_eq!(
                    &r.game_id[3..5],
                    format!("{:02}", r.season_year % 100).as_str()
                );
                *minutes_per_team_game
                    .entry((r.game_id.as_str(), r.team_abbr.as_str()))
                    .or_default() += r.minutes_played;
            }
            for (key, minutes) in minutes_per_team_game {
                // Regulation or one or two overtimes, up to rounding to tenths.
                let nearest = 240.0 + 25.0 * ((minutes - 240.0) / 25.0).round();
                assert!(
                    (240.0..=290.0).contains(&nearest) && (minutes - nearest).abs() <= 0.8,
                    "seed {seed} {key:?}: {minutes}"
                );
            }
            let points: f64 = league.rows.iter().map(|r| f64::from(r.points)).sum();
            let team_games = 2.0 * league.seasons.iter().map(|s| s.games).sum::<usize>() as f64;
            let per_team_game = points / team_games;
            assert!(
                (85.0..=125.0).contains(&per_team_game),
                "seed {seed}: {per_team_game:.1} points"
            );
        }
    }

    #[test]
    fn player_lookups_are_lowercase_letters_and_play_once_a_day() {
        for (seed, league) in leagues() {
            let mut seen: HashSet<(NaiveDate, &str)> = HashSet::new();
            for r in &league.rows {
                assert!(
                    r.player_lookup.len() >= 4
                        && r.player_lookup.bytes().all(|b| b.is_ascii_lowercase()),
                    "seed {seed}: {:?}",
                    r.player_lookup
                );
                assert!(
                    seen.insert((r.game_date, r.player_lookup.as_str())),
                    "seed {seed}: {} twice on {}",
                    r.player_lookup,
                    r.game_date
                );
            }
        }
    }

    #[test]
    fn rows_are_sorted_by_date_game_team_player() {
        for (_, league) in leagues() {
            assert!(league.rows.windows(2).all(|w| {
                (
                    w[0].game_date,
                    &w[0].game_id,
                    &w[0].team_abbr,
                    &w[0].player_lookup,
                ) < (
                    w[1].game_date,
                    &w[1].game_id,
                    &w[1].team_abbr,
                    &w[1].player_lookup,
                )
            }));
        }
    }

    #[test]
    fn players_carry_over_between_seasons() {
        for (seed, league) in leagues() {
            for pair in SEASONS.windows(2) {
                let players = |year: i32| -> BTreeSet<&str> {
                    season_rows(league, year)
                        .map(|r| r.player_lookup.as_str())
                        .collect()
                };
                let (before, after) = (players(pair[0]), players(pair[1]));
                let kept = before.intersection(&after).count();
                // Most of the regulars come back; the churn brings many new faces.
                assert!(kept >= 300, "seed {seed} {pair:?}: {kept} carried over");
                assert!(
                    after.len() > kept + 100,
                    "seed {seed} {pair:?}: no new players"
                );
                // Most of a team's first-week players played for it the season before.
                let previous: HashSet<(&str, &str)> = season_rows(league, pair[0])
                    .map(|r| (r.team_abbr.as_str(), r.player_lookup.as_str()))
                    .collect();
                let first = league
                    .seasons
                    .iter()
                    .find(|s| s.season_year == pair[1])
                    .unwrap()
                    .first_game;
                let opening: HashSet<(&str, &str)> = season_rows(league, pair[1])
                    .filter(|r| season_week(first, r.game_date) == 1)
                    .map(|r| (r.team_abbr.as_str(), r.player_lookup.as_str()))
                    .collect();
                let returning = opening.intersection(&previous).count();
                assert!(
                    returning * 2 > opening.len(),
                    "seed {seed} {pair:?}: {returning} of {} returned",
                    opening.len()
                );
            }
        }
    }

    #[test]
    fn rosters_hold_about_fifteen_players_at_a_time() {
        for (seed, league) in leagues() {
            // Distinct players with minutes for a team in a week stay near a roster's
            // size (14 standard contracts plus two-way and short-term players).
            for year in SEASONS {
                let mut week_players: BTreeMap<(u32, &str), BTreeSet<&str>> = BTreeMap::new();
                let first = league
                    .seasons
                    .iter()
                    .find(|s| s.season_year == year)
                    .unwrap()
                    .first_game;
                for r in season_rows(league, year) {
                    week_players
                        .entry((season_week(first, r.game_date), r.team_abbr.as_str()))
                        .or_default()
                        .insert(&r.player_lookup);
                }
                let sizes: Vec<usize> = week_players.values().map(|s| s.len()).collect();
                let mean = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
                assert!(
                    (11.0..=16.0).contains(&mean),
                    "seed {seed} {year}: {mean:.1}"
                );
                // Short-term signings come and go, so a week can see a few more.
                let most = sizes.iter().max().copied().unwrap_or(0);
                assert!(most <= 24, "seed {seed} {year}: {most} players in a week");
            }
        }
    }
}
