//! Checks, their failures, and running a list of them.

/// One named check of the ABI.
pub struct Check {
    /// What it checks, e.g. `values`.
    pub name: &'static str,
    /// The check; `Err` names the first condition that did not hold.
    pub run: fn() -> Result<(), Failure>,
}

/// The condition that did not hold, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// The condition's source text.
    pub condition: &'static str,
    /// Its file.
    pub file: &'static str,
    /// Its line.
    pub line: u32,
}

/// Where a firmware sends the results: semihosting text or `defmt` frames.
pub trait Reporter {
    /// A check passed.
    fn passed(&mut self, check: &Check);
    /// A check failed.
    fn failed(&mut self, check: &Check, failure: &Failure);
}

/// Run every check in order, reporting each; the number that failed.
pub fn run(checks: &[Check], reporter: &mut impl Reporter) -> usize {
    let mut failed = 0;
    for check in checks {
        match (check.run)() {
            Ok(()) => reporter.passed(check),
            Err(failure) => {
                failed += 1;
                reporter.failed(check, &failure);
            }
        }
    }
    failed
}

/// Results as text on semihosting's stdout.
#[cfg(feature = "semihosting")]
pub struct Semihosting;

#[cfg(feature = "semihosting")]
impl Reporter for Semihosting {
    fn passed(&mut self, check: &Check) {
        semihosting::println!("ok      {}", check.name);
    }

    fn failed(&mut self, check: &Check, f: &Failure) {
        semihosting::println!("FAILED  {}: `{}` at {}:{}", check.name, f.condition, f.file, f.line);
    }
}

/// `Option` and `Result` alike: the value, if there is one.
pub trait Present<T> {
    /// The value, or `None`.
    fn present(self) -> Option<T>;
}

impl<T> Present<T> for Option<T> {
    fn present(self) -> Option<T> {
        self
    }
}

impl<T, E> Present<T> for Result<T, E> {
    fn present(self) -> Option<T> {
        self.ok()
    }
}

/// Fail the check unless the condition holds.
macro_rules! ensure {
    ($cond:expr) => {
        if !$cond {
            return Err($crate::report::Failure {
                condition: stringify!($cond),
                file: file!(),
                line: line!(),
            });
        }
    };
}

/// The value of an `Option` or `Result`, or fail the check.
macro_rules! ok {
    ($e:expr) => {
        match $crate::report::Present::present($e) {
            Some(v) => v,
            None => {
                return Err($crate::report::Failure {
                    condition: stringify!($e),
                    file: file!(),
                    line: line!(),
                });
            }
        }
    };
}
